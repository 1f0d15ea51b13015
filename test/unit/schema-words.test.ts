import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keptName, parseBody, type HttpEvent } from '../../functions/http/request.js';
import { RenameAuthenticatorRequest } from '../../functions/http/schemas.js';
import { buildOpenApiDocument } from '../../scripts/openapi-document.js';

const jsonEvent = (body: unknown): HttpEvent => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) as unknown as HttpEvent;

describe('a name as the API takes it', () => {
  const documented = (() => {
    const schemas = (buildOpenApiDocument() as { components: { schemas: Record<string, { properties: Record<string, { pattern: string }> }> } }).components.schemas;
    return new RegExp(schemas.RenameAuthenticatorRequest!.properties.name!.pattern, 'u');
  })();

  const accepted = (name: string) => {
    try {
      return keptName(parseBody(jsonEvent({ name }), RenameAuthenticatorRequest).name);
    } catch {
      return undefined;
    }
  };

  it('is accepted by the service exactly when openapi.json says it is', () => {
    const piece = fc.oneof(fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u200b', '\u202e', '\u0007', '\ufeff', 'é', '🔑'), fc.string({ unit: 'grapheme', maxLength: 4 }));
    const name = fc.oneof(fc.array(piece, { maxLength: 24 }).map((parts) => parts.join('')), fc.tuple(fc.integer({ min: 60, max: 70 }), fc.constantFrom('x', '🔑', 'é')).map(([n, c]) => ` ${c.repeat(n)} `));
    fc.assert(
      fc.property(name, (value) => {
        expect({ value, accepted: accepted(value) !== undefined }).toEqual({ value, accepted: documented.test(value) });
      }),
      { numRuns: 2000 },
    );
  });

  it('is stored trimmed, and counted in characters as people count them', () => {
    expect(accepted('\u00a0 Phone\t')).toBe('Phone');
    expect(accepted('🔑'.repeat(64))).toBe('🔑'.repeat(64));
    expect(accepted('🔑'.repeat(65))).toBeUndefined();
  });
});
