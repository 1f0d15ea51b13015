/**
 * Where a verifier remembers the `jti` of every assertion it accepted, so that each assertion
 * is accepted once. An entry must outlive the assertion: after `expiresAtSeconds` the verifier
 * refuses the assertion anyway, so the entry may go.
 */
export interface ReplayCache {
  /** Records `jti`; resolves false when it was recorded before (a replay), true the first time. */
  claim(jti: string, expiresAtSeconds: number): Promise<boolean>;
}

export interface MemoryReplayCacheOptions {
  /** Milliseconds since the epoch; tests pass a manual clock. */
  now?: () => number;
}

const SWEEP_INTERVAL_MS = 30_000;

/**
 * A replay cache in this process's memory: right for one long-running backend process.
 * Several processes or Lambda instances each have their own memory; use the DynamoDB cache
 * (`verifier/dynamodb-replay-cache.ts`) there. Entries are only ever added for assertions
 * whose signature verified, so the map holds at most what the service issued in one lifetime.
 */
export function createMemoryReplayCache(options: MemoryReplayCacheOptions = {}): ReplayCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, number>();
  let lastSweep = now();
  return {
    async claim(jti, expiresAtSeconds) {
      const nowSeconds = now() / 1000;
      if (now() - lastSweep >= SWEEP_INTERVAL_MS) {
        for (const [key, expiresAt] of entries) if (expiresAt < nowSeconds) entries.delete(key);
        lastSweep = now();
      }
      if (entries.has(jti)) return false;
      entries.set(jti, expiresAtSeconds);
      return true;
    },
  };
}
