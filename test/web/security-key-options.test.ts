import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PreparedOptions } from '../../web/src/security-key.js';

type Options = { options: { challenge: string; timeout?: number }; expiresAt: string };

/** Options as the API hands them out: a new challenge per call, counted. */
function api(timeout?: number) {
  let calls = 0;
  const fetchOptions = vi.fn(async (): Promise<Options> => {
    calls += 1;
    // expiresAt is the server's clock, deliberately far from this machine's: it must not matter.
    return { options: { challenge: `challenge-${calls}`, ...(timeout === undefined ? {} : { timeout }) }, expiresAt: '2001-01-01T00:00:00.000Z' };
  });
  return fetchOptions;
}

describe('PreparedOptions (key options fetched before the click)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2026, 11, 1, 12, 0, 0));
  });
  afterEach(() => vi.useRealTimers());

  it('hands a prepared set over synchronously once it has arrived, and only once', async () => {
    const fetchOptions = api(300_000);
    const prepared = new PreparedOptions(fetchOptions);
    prepared.prepare();
    expect(prepared.takeReady()).toBeUndefined();
    await vi.waitFor(() => expect(fetchOptions).toHaveBeenCalledTimes(1));
    await Promise.resolve();
    expect(prepared.takeReady()?.value.options.challenge).toBe('challenge-1');
    expect(prepared.takeReady()).toBeUndefined();
  });

  it('counts freshness from arrival for the options\' timeout, not from the server\'s expiresAt', async () => {
    const prepared = new PreparedOptions(api(60_000));
    prepared.prepare();
    await vi.advanceTimersByTimeAsync(0);
    vi.advanceTimersByTime(50_000);
    expect(prepared.takeReady()?.value.options.challenge).toBe('challenge-1');

    prepared.prepare();
    await vi.advanceTimersByTimeAsync(0);
    vi.advanceTimersByTime(56_000);
    expect(prepared.takeReady()).toBeUndefined();
    expect((await prepared.take()).value.options.challenge).toBe('challenge-3');
  });

  it('waits for a set still on its way instead of asking again', async () => {
    const fetchOptions = api();
    const prepared = new PreparedOptions(fetchOptions);
    prepared.prepare();
    expect((await prepared.take()).value.options.challenge).toBe('challenge-1');
    expect(fetchOptions).toHaveBeenCalledTimes(1);
  });

  it('asks once more when the prepared fetch failed', async () => {
    const fetchOptions = vi.fn<() => Promise<Options>>().mockRejectedValueOnce(new TypeError('offline')).mockResolvedValueOnce({
      options: { challenge: 'second' },
      expiresAt: '2001-01-01T00:00:00.000Z',
    });
    const prepared = new PreparedOptions(fetchOptions);
    prepared.prepare();
    expect((await prepared.take()).value.options.challenge).toBe('second');
  });

  it('keeps a set given to it (a step-up\'s registration, or one the browser did not use)', () => {
    const prepared = new PreparedOptions(api());
    prepared.hold({ options: { challenge: 'held', timeout: 300_000 }, expiresAt: '2001-01-01T00:00:00.000Z' });
    expect(prepared.takeReady()?.value.options.challenge).toBe('held');
  });
});
