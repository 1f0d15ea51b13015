import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/http/routes.js';
import { logicalId, resource, resources, roleGrants, synthesize, type Synthesized } from './synth.js';

/** The stack with mail on: codes by email, security notices, from a verified SES identity. Bundled, so cdk-nag sees what deploys. */
let mail: Synthesized;
let off: Synthesized;
beforeAll(() => {
  mail = synthesize({ settings: { emailCodes: true, emailFrom: 'no-reply@example.com', supportUrl: 'https://help.example.com' } });
  off = synthesize({ context: { 'aws:cdk:bundling-stacks': [] } });
});

const sesGrants = (synth: Synthesized, roleId: string) => roleGrants(synth, roleId).filter((grant) => grant.action.startsWith('ses:'));
const envOf = (synth: Synthesized, functionId: string) =>
  (resource(synth, functionId).Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

describe('mail (SES)', () => {
  it('lets exactly the functions that send codes, and the notice function, call ses:SendEmail, from emailFrom only', () => {
    const functions = mail.stack.mfa.functions.byRoute;
    const expected = (roleId: string) => {
      const grants = sesGrants(mail, roleId);
      // One statement, its two resources: the identity and the configuration set.
      expect(grants.map((grant) => grant.action)).toEqual(['ses:SendEmail', 'ses:SendEmail']);
      for (const grant of grants) expect(grant.condition).toEqual({ StringEquals: { 'ses:FromAddress': 'no-reply@example.com' } });
      const targets = grants.map((grant) => JSON.stringify(grant.resource)).sort();
      expect(targets[0]).toContain(':configuration-set/');
      expect(targets[1]).toContain(':identity/example.com"');
    };
    for (const route of ROUTES) {
      const { fn } = functions.get(route.id)!;
      if (route.access.mail.length > 0) expected(logicalId(fn.role));
      else expect(sesGrants(mail, logicalId(fn.role)), route.id).toEqual([]);
    }
    expected(logicalId(mail.stack.mfa.securityNotifications!.notifier.role));
  });

  it('sends through a configuration set of its own and tells the functions the address and the set', () => {
    const sets = resources(mail, 'AWS::SES::ConfigurationSet');
    expect(sets).toHaveLength(1);
    expect(sets[0]![1].Properties).toMatchObject({ DeliveryOptions: { TlsPolicy: 'REQUIRE' }, ReputationOptions: { ReputationMetricsEnabled: true } });
    const env = envOf(mail, logicalId(mail.stack.mfa.functions.byRoute.get('startEmailChallenge')!.fn.function));
    expect(env).toMatchObject({ MFA_EMAIL_CODES: 'true', MFA_EMAIL_FROM: 'no-reply@example.com', MFA_EMAIL_CONFIGURATION_SET: { Ref: sets[0]![0] } });
  });

  it('feeds the notice function from the table stream, with the change events\' retries and dead-letter queue, and the support URL', () => {
    const notifier = mail.stack.mfa.securityNotifications!.notifier;
    const mapping = resources(mail, 'AWS::Lambda::EventSourceMapping').find(([, r]) => JSON.stringify(r.Properties!.FunctionName).includes(logicalId(notifier.function)));
    expect(mapping![1].Properties).toMatchObject({ BisectBatchOnFunctionError: true, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(JSON.stringify(mapping![1].Properties!.DestinationConfig)).toContain(logicalId(mail.stack.mfa.changeEvents.deadLetterQueue));
    expect(envOf(mail, logicalId(notifier.function))).toMatchObject({ MFA_SUPPORT_URL: 'https://help.example.com', MFA_EMAIL_FROM: 'no-reply@example.com' });
    const table = roleGrants(mail, logicalId(notifier.role)).filter((grant) => ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'].includes(grant.action));
    expect(table.map((grant) => grant.action)).toEqual(['dynamodb:UpdateItem']);
    // Its idempotency records only: a user's item (USER#...) is out of its reach.
    expect(table[0]!.condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['NOTICE#*'] } });
  });

  it('keeps cdk-nag at zero findings with mail on', () => {
    expect(mail.findings).toEqual([]);
  });

  it('sends nothing by default: no configuration set, no notice function, no SES grant, email codes off', () => {
    expect(resources(off, 'AWS::SES::ConfigurationSet')).toEqual([]);
    expect(off.stack.mfa.securityNotifications).toBeUndefined();
    for (const { fn } of off.stack.mfa.functions.byRoute.values()) expect(sesGrants(off, logicalId(fn.role))).toEqual([]);
    expect(envOf(off, logicalId(off.stack.mfa.functions.byRoute.get('startEmailEnrollment')!.fn.function)).MFA_EMAIL_CODES).toBe('false');
  });
});
