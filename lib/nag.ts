import { Aspects, CfnResource, Validations } from 'aws-cdk-lib';
import { rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges AwsSolutions-IAM5 (wildcard permissions) on the IAM policies under `scope`, for
 * the exact findings cdk-nag's own rule reports on them (`AwsSolutions-IAM5[Action::s3:List*]`
 * and so on), with one reason. For policies whose wildcards name generated resources (a
 * logical ID, the asset bucket of the synthesizer) that cannot be written down beforehand;
 * only the constructs passed here are covered, and any other finding still fails the synth.
 */
export function acknowledgeWildcardPermissions(scope: IConstruct, reason: string): void {
  Aspects.of(scope).add({
    visit(node: IConstruct) {
      if (!CfnResource.isCfnResource(node)) return;
      const findings = rules.iam.IAMNoWildcardPermissions(node);
      if (!Array.isArray(findings)) return;
      Validations.of(node).acknowledge(...findings.map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })));
    },
  });
}
