import type { StrictCall } from './strict-call';
import type { StrictAwsSettings } from './strict-settings';

/** What is down for a call, in words for the log and the stats; undefined when nothing is. */
export function outageFor(call: StrictCall, settings: StrictAwsSettings): string | undefined {
  const { outage } = settings;
  // Route 53's control plane is not part of any region's outage here. Route 53 signs every call as us-east-1,
  // but "AWS Fault Isolation Boundaries" (Appendix B - Edge network global service guidance,
  // https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/appendix-b---edge-network-global-service-guidance.html)
  // says its control plane ("all public Route 53 APIs covering ... hosted zones, records, health checks") "is
  // hosted in us-east-1" while the data plane (DNS answers, health checks) runs in every Region and PoP, and that
  // "you should not rely on the Route 53 control plane in your recovery path". Its own switch lets a drill take
  // the control plane down with or without us-east-1, and us-east-1 down with the control plane still up.
  if (call.info.service === 'route53') {
    return outage.route53ControlPlaneDown ? 'the Route 53 control plane' : undefined;
  }
  if (call.info.region !== undefined && outage.regionsDown.includes(call.info.region)) {
    return `region ${call.info.region}`;
  }
  return undefined;
}
