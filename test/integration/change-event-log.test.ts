import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredChangeEvent } from '../../functions/adapters/aws/change-event-stream.js';
import type { AdmittedOperator, Operator } from '../../functions/service/mfa-service.js';
import { ChangeEventLog, EVENTS_CHECKPOINT_FILE, EVENTS_FILE } from '../../local/change-event-log.js';
import { streamOf } from '../support/change-events.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { codeAt, createTestService, newActor } from '../support/service.js';

type TestService = Awaited<ReturnType<typeof createTestService>>;
const supportOperator: Operator = { principal: 'arn:aws:iam::000000000000:user/local-admin', audit: { requestId: 'req-op', sourceIp: '127.0.0.1' } };

async function linesOf(dataDir: string): Promise<DeliveredChangeEvent[]> {
  const text = await readFile(join(dataDir, EVENTS_FILE), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as DeliveredChangeEvent);
}

async function waitForLines(dataDir: string, predicate: (lines: DeliveredChangeEvent[]) => boolean, timeoutMs = 5_000): Promise<{ lines: DeliveredChangeEvent[]; ms: number }> {
  const started = Date.now();
  for (;;) {
    const lines = await linesOf(dataDir);
    if (predicate(lines)) return { lines, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`events.jsonl did not get the expected lines within ${timeoutMs} ms: ${JSON.stringify(lines.map((l) => l.detail.event))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the local change event log (npm start)', () => {
  let t: TestService;
  /** Admitted as the handlers admit a caller (the test settings name this principal). */
  let operator: AdmittedOperator;
  let dataDir: string;
  beforeAll(async () => {
    t = await createTestService();
    operator = t.service.admitOperator(supportOperator, undefined);
    dataDir = await mkdtemp(join(tmpdir(), 'mfa-event-log-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(t.dataDir, { recursive: true, force: true });
  });

  const startLog = () => ChangeEventLog.start({ dynamoDbEndpoint: testDynamoDbEndpoint(), tableName: t.tableName, dataDir, pollIntervalMs: 100 });

  it('appends each change event as one JSON line, as an EventBridge target receives it, within 5 seconds', async () => {
    const log = await startLog();
    try {
      const actor = newActor('log');
      const enrollment = await t.service.startTotpEnrollment(actor);
      await t.service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock));
      const { lines, ms } = await waitForLines(dataDir, (found) => found.length >= 2);
      expect(ms).toBeLessThan(5_000);
      expect(lines.map((line) => [line.source, line['detail-type'], line.detail.event, line.detail.userId])).toEqual([
        ['serverless-mfa', 'MFA Enabled', 'mfa.enabled', actor.userId],
        ['serverless-mfa', 'MFA Authenticator Added', 'authenticator.added', actor.userId],
      ]);
      expect(lines[0]!.time).toBe(lines[0]!.detail.at);
      expect(JSON.stringify(lines)).not.toContain(enrollment.secret);
    } finally {
      await log.stop();
    }
  });

  it('loses nothing across a restart: changes made while it was stopped are appended once it runs again', async () => {
    const first = await startLog();
    const actor = newActor('restart');
    const enrollment = await t.service.startTotpEnrollment(actor);
    await t.service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock));
    await waitForLines(dataDir, (found) => found.filter((line) => line.detail.userId === actor.userId).length === 2);
    await first.stop();

    const [app] = (await t.service.status(actor)).authenticators;
    await t.service.renameAuthenticator(actor, app!.id, 'Phone');
    await t.service.adminUnlock(operator, actor.userId, 'restart test');
    expect((await linesOf(dataDir)).filter((line) => line.detail.userId === actor.userId)).toHaveLength(2);

    const second = await startLog();
    try {
      const { lines } = await waitForLines(dataDir, (found) => found.filter((line) => line.detail.userId === actor.userId).length >= 4);
      const ids = lines.map((line) => line.detail.id);
      const streamIds = (await streamOf(t.tableName)).events.map((event) => event.id);
      expect([...ids].sort()).toEqual([...streamIds].sort());
      expect(lines.filter((line) => line.detail.userId === actor.userId).map((line) => line.detail.event)).toEqual([
        'mfa.enabled',
        'authenticator.added',
        'authenticator.renamed',
        'admin.unlock',
      ]);
    } finally {
      await second.stop();
    }
  });

  it('writes events again rather than lose them when it stopped between the file and the checkpoint', async () => {
    const log = await startLog();
    const stale = join(dataDir, 'checkpoint-before.json');
    await copyFile(join(dataDir, EVENTS_CHECKPOINT_FILE), stale);
    const actor = newActor('crash');
    const enrollment = await t.service.startTotpEnrollment(actor);
    await t.service.confirmTotpEnrollment(actor, codeAt(enrollment.secret, t.clock));
    await waitForLines(dataDir, (found) => found.filter((line) => line.detail.userId === actor.userId).length === 2);
    await log.stop();
    // As if the process died after appending but before moving the checkpoint.
    await copyFile(stale, join(dataDir, EVENTS_CHECKPOINT_FILE));

    const again = await startLog();
    try {
      const { lines } = await waitForLines(dataDir, (found) => found.filter((line) => line.detail.userId === actor.userId).length === 4);
      const mine = lines.filter((line) => line.detail.userId === actor.userId).map((line) => line.detail.id);
      expect(new Set(mine).size).toBe(2);
      const streamIds = new Set((await streamOf(t.tableName)).events.map((event) => event.id));
      expect(new Set(lines.map((line) => line.detail.id))).toEqual(streamIds);
    } finally {
      await again.stop();
    }
  });
});
