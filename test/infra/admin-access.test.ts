import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config.js';
import { ROUTES } from '../../functions/http/routes.js';
import { SERVICE_SETTING_ENV } from '../../functions/settings-schema.js';
import { arnOf, logicalId, resource, resources, SKIP_BUNDLING, synthesize, type Synthesized } from './synth.js';

const SSO_ROLE = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Support_*';
const BREAK_GLASS = 'arn:aws:iam::111122223333:user/break-glass';
const CI_ROLE = 'arn:aws:iam::111122223333:role/ci-support';
const ENV = SERVICE_SETTING_ENV.adminPrincipalArns;

let byDefault: Synthesized;
let otherAccount: Synthesized;
let ssoRole: Synthesized;
let noRole: Synthesized;
beforeAll(() => {
  byDefault = synthesize({ context: SKIP_BUNDLING });
  otherAccount = synthesize({ context: { ...SKIP_BUNDLING, supportRoleTrust: '444455556666' } });
  ssoRole = synthesize({ context: { ...SKIP_BUNDLING, supportRoleTrust: SSO_ROLE, adminPrincipalArns: `${BREAK_GLASS},${CI_ROLE}` } });
  noRole = synthesize({ context: { ...SKIP_BUNDLING, supportRoleTrust: 'none', adminPrincipalArns: [BREAK_GLASS] } });
});

const supportRole = (s: Synthesized) => resource(s, logicalId(s.stack.mfa.adminAccess!.supportRole!));
const trustOf = (s: Synthesized) => (supportRole(s).Properties!.AssumeRolePolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
const rootOf = (account: string | { Ref: string }) =>
  ({ AWS: { 'Fn::Join': ['', typeof account === 'string' ? ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:root`] : ['arn:', { Ref: 'AWS::Partition' }, ':iam::', account, ':root']] } });
const operatorFunctions = (s: Synthesized) =>
  resources(s, 'AWS::Lambda::Function').filter(([, fn]) => ROUTES.some((route) => route.auth === 'iam' && fn.Properties!.Description === `serverless-mfa ${route.id}: ${route.method} ${route.path}`));
const otherFunctions = (s: Synthesized) => {
  const operators = new Set(operatorFunctions(s).map(([id]) => id));
  return resources(s, 'AWS::Lambda::Function').filter(([id]) => !operators.has(id));
};
const envOf = (fn: [string, { Properties?: Record<string, unknown> }]) => (fn[1].Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

describe('the support role', () => {
  it('is created with exactly the operator invoke policy, one-hour sessions, trusted by this account by default', () => {
    expect(supportRole(byDefault).Properties).toMatchObject({
      ManagedPolicyArns: [{ Ref: logicalId(byDefault.stack.mfa.adminInvokePolicy!) }],
      MaxSessionDuration: 3600,
    });
    expect(supportRole(byDefault).Properties!.Policies).toBeUndefined();
    expect(resources(byDefault, 'AWS::IAM::Policy').filter(([, policy]) => JSON.stringify(policy.Properties!.Roles).includes(logicalId(byDefault.stack.mfa.adminAccess!.supportRole!)))).toEqual([]);
    expect(trustOf(byDefault)).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: rootOf({ Ref: 'AWS::AccountId' }) }]);
  });

  it('may be trusted by another account instead', () => {
    expect(trustOf(otherAccount)).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: rootOf('444455556666') }]);
  });

  it("may be trusted by one SSO permission set's role only, matched by aws:PrincipalArn (the role's id changes when re-provisioned)", () => {
    expect(trustOf(ssoRole)).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: rootOf('111122223333'), Condition: { ArnLike: { 'aws:PrincipalArn': SSO_ROLE } } },
    ]);
  });

  it('is left out with supportRoleTrust=none', () => {
    expect(noRole.stack.mfa.adminAccess!.supportRole).toBeUndefined();
    expect(resources(noRole, 'AWS::IAM::Role').filter(([, role]) => String(role.Properties!.Description).includes('operator'))).toEqual([]);
    expect(Object.keys(noRole.template.toJSON().Outputs as object)).not.toContain('SupportRoleArn');
  });

  it('is an output, and no variant has a cdk-nag finding', () => {
    expect((byDefault.template.toJSON().Outputs as Record<string, { Value: unknown }>).SupportRoleArn!.Value).toEqual(arnOf(logicalId(byDefault.stack.mfa.adminAccess!.supportRole!)));
    for (const s of [byDefault, otherAccount, ssoRole, noRole]) expect(s.findings).toEqual([]);
  });
});

describe('the principals the operator functions admit', () => {
  it(`are named in ${ENV} of exactly the operator functions: the support role, then adminPrincipalArns`, () => {
    const supportRoleArn = arnOf(logicalId(ssoRole.stack.mfa.adminAccess!.supportRole!));
    expect(operatorFunctions(ssoRole)).toHaveLength(ROUTES.filter((route) => route.auth === 'iam').length);
    for (const fn of operatorFunctions(ssoRole)) expect(envOf(fn)[ENV]).toEqual({ 'Fn::Join': ['', [supportRoleArn, `,${BREAK_GLASS},${CI_ROLE}`]] });
    for (const fn of operatorFunctions(byDefault)) expect(envOf(fn)[ENV]).toEqual(arnOf(logicalId(byDefault.stack.mfa.adminAccess!.supportRole!)));
    for (const fn of operatorFunctions(noRole)) expect(envOf(fn)[ENV]).toBe(BREAK_GLASS);
    expect(otherFunctions(ssoRole).length).toBeGreaterThan(0);
    for (const fn of otherFunctions(ssoRole)) expect(ENV in ((fn[1].Properties!.Environment as { Variables?: object } | undefined)?.Variables ?? {}), fn[0]).toBe(false);
  });

  it('pass the functions\' cold-start validation once resolved, and an operator function without them refuses to start', () => {
    const route = ROUTES.find((candidate) => candidate.auth === 'iam')!;
    const base = { MFA_ISSUER: 'https://abc.execute-api.eu-west-1.amazonaws.com', MFA_TABLE_NAME: 't', MFA_WEBAUTHN_RP_ID: 'example.com', MFA_WEBAUTHN_ORIGINS: 'https://example.com', AWS_LAMBDA_FUNCTION_NAME: route.id };
    const resolved = `arn:aws:iam::111122223333:role/ServerlessMfa-MfaAdminAccessSupportRole-ABC123,${BREAK_GLASS},${CI_ROLE}`;
    expect(loadConfig(route.access, { ...base, [ENV]: resolved }, route.auth).adminPrincipalArns).toEqual(resolved.split(','));
    expect(() => loadConfig(route.access, base, route.auth)).toThrow(ENV);
  });

  it('refuse at synth what the functions would refuse: not an IAM user, role or assumed-role ARN', () => {
    for (const bad of ['arn:aws:iam::111122223333:root', 'arn:aws:iam::111122223333:role/*', '111122223333']) {
      expect(() => synthesize({ context: { ...SKIP_BUNDLING, adminPrincipalArns: bad } }), bad).toThrow(/adminPrincipalArns/);
    }
    expect(() => synthesize({ context: { ...SKIP_BUNDLING, supportRoleTrust: 'everyone' } })).toThrow(/supportRoleTrust/);
  });
});
