import { describe, expect, it } from 'vitest';
import { SettingRefused } from '../../functions/setting-rules.js';
import { ServiceSettingRules } from '../../functions/settings-schema.js';
import { isNamedPrincipal } from '../../functions/service/operator-principals.js';

const SUPPORT_ROLE = 'arn:aws:iam::111122223333:role/support';
const SSO_ROLE = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Support_0123456789abcdef';
const USER = 'arn:aws:iam::111122223333:user/ops/break-glass';
const ONE_SESSION = 'arn:aws:sts::111122223333:assumed-role/oncall/alice';
const NAMED = [SUPPORT_ROLE, SSO_ROLE, USER, ONE_SESSION];

describe('isNamedPrincipal (who may call the operator routes)', () => {
  it.each([
    ['any session of a named role', 'arn:aws:sts::111122223333:assumed-role/support/jane'],
    ['a session of a named role with a path (the path is not in a session ARN)', 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Support_0123456789abcdef/jane@example.com'],
    ['a named user', USER],
    ['the one named session of a role', ONE_SESSION],
  ])('admits %s', (_name, caller) => {
    expect(isNamedPrincipal(caller, NAMED)).toBe(true);
  });

  it.each([
    ['a role not named', 'arn:aws:sts::111122223333:assumed-role/Administrator/mallory'],
    ['another session of a role named by one session only', 'arn:aws:sts::111122223333:assumed-role/oncall/bob'],
    ['the named role name in another account', 'arn:aws:sts::444455556666:assumed-role/support/jane'],
    ['the named role name in another partition', 'arn:aws-cn:sts::111122223333:assumed-role/support/jane'],
    ['a role whose name only starts like a named one', 'arn:aws:sts::111122223333:assumed-role/support-old/jane'],
    ['a session named like a named role', 'arn:aws:sts::111122223333:assumed-role/ci/support'],
    ['a user named like a named role', 'arn:aws:iam::111122223333:user/support'],
    ['a user of the same name elsewhere in the path', 'arn:aws:iam::111122223333:user/break-glass'],
    ['the account root', 'arn:aws:iam::111122223333:root'],
    ['anyone, when nobody is named', 'arn:aws:sts::111122223333:assumed-role/support/jane', []],
  ])('refuses %s', (_name, caller, named: string[] = NAMED) => {
    expect(isNamedPrincipal(caller, named)).toBe(false);
  });

  it('is configured with user, role and assumed-role ARNs only, as a list or comma-separated text', () => {
    expect(ServiceSettingRules.adminPrincipalArns(`${SUPPORT_ROLE}, ${SSO_ROLE},${USER}`)).toEqual([SUPPORT_ROLE, SSO_ROLE, USER]);
    expect(ServiceSettingRules.adminPrincipalArns('')).toEqual([]);
    for (const bad of ['arn:aws:iam::111122223333:root', 'arn:aws:iam::111122223333:role/*', '111122223333', 'arn:aws:iam::*:role/support', 'support', 'arn:aws:sts::111122223333:assumed-role/support']) {
      expect(() => ServiceSettingRules.adminPrincipalArns(bad), bad).toThrow(SettingRefused);
    }
  });
});
