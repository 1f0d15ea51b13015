import { Duration } from 'aws-cdk-lib';
import { AccountPrincipal, AccountRootPrincipal, Role, type IPrincipal, type ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { serviceEnvironment } from '../../functions/settings-schema.js';
import type { MfaFunction } from './mfa-function.js';

export interface AdminAccessProps {
  /** `execute-api:Invoke` on exactly the operator routes (MfaApi.adminInvokePolicy). */
  invokePolicy: ManagedPolicy;
  /**
   * Who may assume the support role: unset, this account (any principal whose own IAM policy
   * allows `sts:AssumeRole` on it); a 12-digit account id; a role ARN (an IAM Identity Center
   * permission set's role, `*` allowed for its generated suffix); `none`: no support role.
   */
  supportRoleTrust: string | undefined;
  /** Who else may call the operator routes (users, roles, assumed roles), holding the invoke policy by their own IAM. */
  adminPrincipalArns: readonly string[];
}

/**
 * Who may act on users' MFA through the operator (`/admin`) routes. IAM alone cannot say it: an
 * HTTP API has no resource policy, so any principal of the account whose IAM allows
 * `execute-api:Invoke` on the API (administrators, power users, CI roles) passes its IAM
 * authorizer. So the stack names the principals, and the operator functions admit only those
 * (MFA_ADMIN_PRINCIPAL_ARNS, functions/service/administration.ts): the support role it creates,
 * with the invoke policy attached, and `adminPrincipalArns`.
 */
export class AdminAccess extends Construct {
  /** Assumed by support staff to call the operator routes; undefined with `supportRoleTrust=none`. */
  readonly supportRole: Role | undefined;
  /** The principals the operator routes admit: the support role (any of its sessions), then `adminPrincipalArns`. */
  readonly principalArns: readonly string[];

  constructor(scope: Construct, id: string, props: AdminAccessProps) {
    super(scope, id);
    this.supportRole =
      props.supportRoleTrust === 'none'
        ? undefined
        : new Role(this, 'SupportRole', {
            assumedBy: trustedBy(props.supportRoleTrust),
            description: 'serverless-mfa: support staff call the operator (/admin) routes of the MFA API as this role',
            managedPolicies: [props.invokePolicy],
            maxSessionDuration: Duration.hours(1),
          });
    this.principalArns = [...(this.supportRole ? [this.supportRole.roleArn] : []), ...props.adminPrincipalArns];
  }

  /** Names the admitted principals in an operator function's configuration (fail closed: empty admits nobody). */
  configure(fn: MfaFunction): void {
    for (const [name, value] of Object.entries(serviceEnvironment({ adminPrincipalArns: [...this.principalArns] }))) fn.addEnvironment(name, value);
  }
}

/** The support role's trust: this account, another account, or one (SSO) role of an account by its ARN. */
function trustedBy(trust: string | undefined): IPrincipal {
  if (trust === undefined) return new AccountRootPrincipal();
  if (/^\d{12}$/.test(trust)) return new AccountPrincipal(trust);
  // A role by `aws:PrincipalArn`, not as the principal itself: IAM would pin that to the role's
  // unique id, which Identity Center replaces whenever it re-provisions the permission set.
  const account = /^arn:[^:]+:iam::(\d{12}):role\//.exec(trust)![1]!;
  return new AccountPrincipal(account).withConditions({ ArnLike: { 'aws:PrincipalArn': trust } });
}
