import { createRequire } from 'node:module';
import { Aspects, CfnResource, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

type CdkNagRules = typeof import('cdk-nag').rules;

/**
 * cdk-nag's rules, from the app's own cdk-nag (an optional peer of the package: the version that
 * checks the app is the one that names the findings), or undefined when the app has none, in
 * which case there is nothing to acknowledge.
 */
function cdkNagRules(): CdkNagRules | undefined {
  try {
    return (createRequire(import.meta.url)('cdk-nag') as { rules: CdkNagRules }).rules;
  } catch {
    return undefined;
  }
}

/**
 * Acknowledges AwsSolutions-IAM5 (wildcard permissions) on the IAM policies under `scope`, for
 * the exact findings cdk-nag's own rule reports on them (`AwsSolutions-IAM5[Action::s3:List*]`
 * and so on), with one reason. For policies whose wildcards name generated resources (a
 * logical ID, the asset bucket of the synthesizer) that cannot be written down beforehand;
 * only the constructs passed here are covered, and any other finding still fails the synth.
 */
export function acknowledgeWildcardPermissions(scope: IConstruct, reason: string): void {
  const rules = cdkNagRules();
  if (!rules) return;
  Aspects.of(scope).add({
    visit(node: IConstruct) {
      if (!CfnResource.isCfnResource(node)) return;
      const findings = rules.iam.IAMNoWildcardPermissions(node);
      if (!Array.isArray(findings)) return;
      Validations.of(node).acknowledge(...findings.map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })));
    },
  });
}
