import { Agent, request } from 'node:http';
import { stepAt } from '../../functions/methods/totp/totp.js';
import { codeAt } from '../../harness/authenticator.js';
import type { ManualClock } from '../../harness/manual-clock.js';
import { elapsedMs } from '../stats.js';

/** The load generator's side of the latency benchmark: users, codes, an HTTP client, blocks of operations. */

export interface BenchUser {
  sub: string;
  token: string;
  secret: string;
  lastStep: number;
  recoveryCodes: string[];
}

/** A set of users handed out least recently used first, each to one request at a time. */
export class UserPool {
  private readonly idle: BenchUser[];
  constructor(users: BenchUser[]) {
    this.idle = [...users];
  }
  async with<T>(use: (user: BenchUser) => Promise<T>): Promise<T> {
    const user = this.idle.shift();
    if (!user) throw new Error('User pool exhausted: more concurrent requests than users.');
    try {
      return await use(user);
    } finally {
      this.idle.push(user);
    }
  }
}

/**
 * Hands out TOTP codes so that every verification is a real success: a step newer than the
 * user's last, within the drift window of the shared manual clock. The clock moves 30 s when
 * the next user has already used the current step; with four users per concurrent request, a
 * code in flight is never more than one step behind the clock, which the window accepts.
 */
export function totpCodeFor(user: BenchUser, clock: ManualClock): string {
  let step = stepAt(clock.now());
  if (user.lastStep >= step) {
    clock.advance(30_000);
    step = stepAt(clock.now());
  }
  user.lastStep = step;
  return codeAt(user.secret, clock.now());
}

export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });
  constructor(readonly port: number) {}

  post(path: string, token: string, body: unknown): Promise<{ status: number; text: string; ms: number }> {
    return this.send('POST', path, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, JSON.stringify(body));
  }

  get(path: string): Promise<{ status: number; text: string; ms: number }> {
    return this.send('GET', path, {}, '');
  }

  private send(method: string, path: string, headers: Record<string, string>, payload: string): Promise<{ status: number; text: string; ms: number }> {
    return new Promise((resolvePost, reject) => {
      const started = performance.now();
      const outgoing = request(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          method,
          agent: this.agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolvePost({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: elapsedMs(started) }));
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function expectOk(what: string, result: { status: number; text: string }, status = 200): void {
  if (result.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${result.status}: ${result.text.slice(0, 300)}`);
}

export interface Block {
  latencies: number[];
  seconds: number;
  cpuMs: number;
}

/** Runs `ops` operations with `concurrency` in flight; returns each one's latency, the wall time and this process's CPU. */
export async function runBlock(concurrency: number, ops: number, operation: () => Promise<number>): Promise<Block> {
  let remaining = ops;
  const latencies: number[] = [];
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining > 0) {
        remaining -= 1;
        latencies.push(await operation());
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { latencies, seconds: elapsedMs(started) / 1000, cpuMs: (used.user + used.system) / 1000 };
}

export async function seedUsers(count: number, create: () => Promise<BenchUser>): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  // A few at a time: enrollment renders a QR code, and the machine is shared.
  for (let i = 0; i < count; i += 4) users.push(...(await Promise.all(Array.from({ length: Math.min(4, count - i) }, create))));
  return users;
}
