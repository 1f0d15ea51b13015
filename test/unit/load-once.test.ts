import { describe, expect, it } from 'vitest';
import { loadOnce, webAuthnHelpers, webAuthnLibrary } from '../../functions/methods/webauthn/library.js';

describe('the WebAuthn library, loaded once', () => {
  it('loads on first use and then answers every call with the same module', async () => {
    let loads = 0;
    const load = loadOnce(async () => ({ n: ++loads }));
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([load(), load()]);
    expect(await load()).toBe(a);
    expect(b).toBe(a);
    expect(loads).toBe(1);
  });

  it('does not keep a failed load: the next call loads again', async () => {
    let loads = 0;
    const load = loadOnce(async () => {
      loads += 1;
      if (loads === 1) throw new Error('chunk not readable');
      return { n: loads };
    });
    await expect(load()).rejects.toThrow('chunk not readable');
    expect(await load()).toEqual({ n: 2 });
    expect(await load()).toEqual({ n: 2 });
    expect(loads).toBe(2);
  });

  it('gives the library and its helpers', async () => {
    expect(typeof (await webAuthnLibrary()).verifyRegistrationResponse).toBe('function');
    expect(await webAuthnHelpers()).toBe(await webAuthnHelpers());
    expect(typeof (await webAuthnHelpers()).decodeClientDataJSON).toBe('function');
  });
});
