import { ConfigError, loadConfig, type ConfigOverrides } from '../../worker/config';

/** A configuration whose `aws.pacing` is `pacing`, as a config file could hold it (unchecked JSON). */
function withPacing(pacing: unknown) {
  return () =>
    loadConfig({
      env: {},
      cwd: '/nonexistent',
      overrides: { aws: { pacing } } as unknown as ConfigOverrides,
    });
}

describe('AWS pacing settings', () => {
  test("GIVEN one API's limits WHEN loaded THEN they replace AWS's for that API, the others keep AWS's", () => {
    const { pacing } = withPacing({ route53: { burst: 50, perSecond: 5 } })().aws;
    expect(pacing.route53).toEqual({ burst: 50, perSecond: 5 });
    expect(pacing.rds).toEqual({ burst: 300, perSecond: 12 });
  });

  test('GIVEN a bucket without its refill WHEN loaded THEN refused, naming the field and what AWS uses', () => {
    // Merged as given, `{"rds": {"burst": 100}}` left the refill undefined: waits computed from it were NaN.
    expect(withPacing({ rds: { burst: 100 } })).toThrow(ConfigError);
    expect(withPacing({ rds: { burst: 100 } })).toThrow(
      /aws\.pacing\.rds\.perSecond must be a positive number, not missing.*\{"burst":300,"perSecond":12\}/,
    );
  });

  test('GIVEN a zero or negative limit, or one that is not a number WHEN loaded THEN refused', () => {
    expect(withPacing({ route53: { burst: 0, perSecond: 10 } })).toThrow(/aws\.pacing\.route53\.burst/);
    expect(withPacing({ cloudwatch: { burst: 50, perSecond: -1 } })).toThrow(
      /aws\.pacing\.cloudwatch\.perSecond/,
    );
    expect(withPacing({ rds: { burst: '300', perSecond: 12 } })).toThrow(/not "300"/);
  });

  test('GIVEN an API drctl does not pace WHEN loaded THEN refused, listing the ones it does', () => {
    expect(withPacing({ route_53: { burst: 50, perSecond: 5 } })).toThrow(
      'aws.pacing.route_53 is not a paced API: use route53, rds, cloudwatch, ec2',
    );
  });
});
