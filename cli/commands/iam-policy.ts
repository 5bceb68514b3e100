import { Option, type Command } from 'commander';
import { CliError, ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { runbookDirs } from '../runbook-dirs';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerIamPolicy(program: Command): void {
  program
    .command('iam-policy')
    .description(
      "Print the least-privilege IAM policy the worker needs to run a runbook: each step's AWS actions on its resources, one statement per step and purpose.",
    )
    .argument('<runbook>', 'a runbook id, or a path to a .ts, .js or .json runbook')
    .option('--account <id>', 'the AWS account id in resource ARNs (default: * , any account)')
    .addOption(
      new Option('--partition <partition>', 'the AWS partition of the ARNs (default: aws)').choices([
        'aws',
        'aws-us-gov',
        'aws-cn',
      ]),
    )
    .option('--region <region>', 'the Region of the codec key and the secrets (default: *)')
    .option(
      '--kms-key <key>',
      "the payload codec's KMS key id, alias or ARN (DRCTL_CODEC_KMS_KEY_ID); repeat with older keys that still decrypt history",
      collect,
    )
    .option('--secret <name>', 'a Secrets Manager secret the worker reads (repeat for each)', collect)
    .option(
      '--evidence-bucket <bucket>',
      'the Object Lock bucket of evidence bundles (DRCTL_EVIDENCE_BUCKET)',
    )
    .option('--evidence-prefix <prefix>', "the evidence chain's key prefix (default: drctl-evidence/)")
    .option(
      '--evidence-kms-key <key>',
      'the KMS key S3 encrypts evidence objects under (DRCTL_EVIDENCE_KMS_KEY_ID): id, alias or ARN',
    )
    .option(
      '--evidence-region <region>',
      "the evidence bucket's Region, where its KMS key is (DRCTL_EVIDENCE_REGION; default: --region)",
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl iam-policy patient-portal-rds',
        '  drctl iam-policy patient-portal-rds --account 123456789012 --output json > portal-worker-policy.json',
        '  drctl iam-policy ehr-db --kms-key alias/drctl-codec --region us-east-1 --secret drctl/ehr-primary \\',
        '      --evidence-bucket acme-dr-evidence --evidence-kms-key alias/drctl-evidence --output json',
        '',
        'Statement ids name the step (FencePrimaryFence, PromoteReplicaPromote, SwitchDnsChange). With --output json',
        'stdout is the policy document itself (aws iam put-role-policy --policy-document file://...).',
        'Exit code 2 for an unknown runbook or a bad option (the message names it).',
      ].join('\n'),
    )
    .action(
      runCommand(
        async (
          context,
          reference: string,
          raw: {
            account?: string;
            partition?: string;
            region?: string;
            kmsKey?: string[];
            secret?: string[];
            evidenceBucket?: string;
            evidencePrefix?: string;
            evidenceKmsKey?: string;
            evidenceRegion?: string;
          },
        ) => {
          const { parseIamPolicyOptions, IamPolicyOptionError } =
            await import('../../security/iam/policy-options');
          const { composeIamPolicy } = await import('../../security/iam/compose-policy');
          const { findRunbook } = await import('../../runbooks/catalog');
          let options;
          try {
            options = parseIamPolicyOptions(raw);
          } catch (error) {
            if (error instanceof IamPolicyOptionError) {
              throw new CliError(error.code, error.message, ExitCode.BadInput, { field: error.field });
            }
            throw error;
          }
          const { runbook } = findRunbook(reference, runbookDirs());
          const result = composeIamPolicy(runbook, options);
          if (context.output === 'json') {
            printJson(result.policy);
          } else {
            const { renderIamPolicy } = await import('../render-iam-policy');
            process.stdout.write(renderIamPolicy(result));
          }
        },
      ),
    );
}
