import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The worst logging configuration an operator could set: everything at DEBUG, and Powertools asked to log each event.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
});

import { captureProcessOutput } from '../support/output-capture.js';
import { startHardeningStack, type HardeningStack } from '../support/hardening-stack.js';
import { SoftwareAuthenticator } from '../../harness/software-authenticator.js';

/**
 * What the key routes leave in the logs: the audit trail names a counter regression (a possible
 * cloned key) with the user, and no line carries a ceremony's challenge, client data, signature,
 * attestation or user handle, nor a recovery code or token.
 */
let h: HardeningStack;
let capture: ReturnType<typeof captureProcessOutput>;
const sensitive: string[] = [];
let sub: string;

beforeAll(async () => {
  h = await startHardeningStack();
  capture = captureProcessOutput();
  sub = `user-${randomUUID()}`;
  const token = await h.token(sub);
  sensitive.push(token);
  const key = new SoftwareAuthenticator({ origin: h.stack.url, counter: 7 });
  const started = await h.call('POST', '/v1/mfa/webauthn/registration', token, {});
  const credential = key.register(started.json.options);
  sensitive.push(started.json.options.challenge, started.json.options.user.id, credential.response.clientDataJSON, credential.response.attestationObject);
  const confirmed = await h.call('POST', '/v1/mfa/webauthn/registration/confirm', token, { credential });
  sensitive.push(...confirmed.json.recoveryCodes);
  for (const knobs of [{}, { counter: 1 }, { badSignature: true }, {}]) {
    h.clock.advance(10_000);
    const challenge = await h.call('POST', '/v1/mfa/webauthn/challenge', token, {});
    const webauthn = key.assert(challenge.json.options, knobs);
    sensitive.push(challenge.json.options.challenge, webauthn.response.clientDataJSON, webauthn.response.signature, webauthn.response.authenticatorData);
    await h.call('POST', '/v1/mfa/verify', token, { webauthn });
  }
}, 120_000);
afterAll(async () => {
  capture?.stop();
  await h?.stop();
});

describe('key routes in the logs', () => {
  it('audits a counter regression with the user, the method and the operation', () => {
    const audits = capture
      .lines()
      .filter((line) => line.includes('"audit":true'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const regression = audits.find((line) => JSON.stringify(line).includes('mfa.webauthn.counter_regression'));
    expect(regression).toBeDefined();
    expect(JSON.stringify(regression)).toContain(sub);
    expect(JSON.stringify(regression)).toContain('"verify"');
    expect(audits.filter((line) => JSON.stringify(line).includes('mfa.verify.succeeded'))).toHaveLength(2);
    expect(audits.filter((line) => JSON.stringify(line).includes('mfa.verify.failed'))).toHaveLength(2);
  });

  it("keeps every challenge, client data, signature, attestation, user handle, recovery code and token out of every line, even at DEBUG with event logging", () => {
    const lines = capture.lines();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => sensitive.some((value) => line.includes(value)))).toEqual([]);
  });
});
