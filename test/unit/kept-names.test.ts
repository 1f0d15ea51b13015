import { describe, expect, it } from 'vitest';
import type { Services } from '../../functions/composition.js';
import { withServices as confirmEmail } from '../../functions/handlers/confirm-email-enrollment.js';
import { withServices as confirmTotp } from '../../functions/handlers/confirm-totp-enrollment.js';
import { withServices as confirmKey } from '../../functions/handlers/confirm-webauthn-registration.js';
import { withServices as rename } from '../../functions/handlers/rename-authenticator.js';
import { withServices as verify } from '../../functions/handlers/verify-mfa.js';
import { routeById, type RouteId } from '../../functions/http/routes.js';
import { apiGatewayEvent, lambdaContext } from '../../harness/lambda-invoke.js';

/** What each service call received, after the handler took the body apart. */
function recordingServices(calls: unknown[][]): Services {
  const mfa = new Proxy({}, { get: () => async (...args: unknown[]) => (calls.push(args.slice(1)), { ok: true }) });
  return { mfa, config: { firstFactorAudiences: ['serverless-mfa-app'] } } as unknown as Services;
}

const credential = { id: 'AQID', rawId: 'AQID', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' }, clientExtensionResults: {} };
const publicKey = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };

describe('a name as the service keeps it', () => {
  const cases: [RouteId, typeof rename, unknown, Record<string, string> | undefined, (args: unknown[]) => unknown][] = [
    ['confirmTotpEnrollment', confirmTotp, { code: '123456', name: '\u00a0 Work phone\t' }, undefined, (args) => args[1]],
    ['confirmEmailEnrollment', confirmEmail, { code: '12345678', name: '  Work phone  ' }, undefined, (args) => args[1]],
    ['confirmWebAuthnRegistration', confirmKey, { credential, name: '\u3000Work phone\n' }, undefined, (args) => args[1]],
    ['renameAuthenticator', rename, { name: ' Work phone ' }, { id: 'Jq3r8mZt0aXk2Vb9' }, (args) => args[1]],
    ['verifyMfa', verify, { code: '123456', rememberDevice: { publicKey, name: '\ufeffWork phone ' } }, undefined, (args) => (args[2] as { name: string }).name],
  ];
  it.each(cases)('%s: trimmed of the white space around it, whatever kind', async (id, withServices, body, pathParameters, nameIn) => {
    const calls: unknown[][] = [];
    const route = routeById(id);
    const answer = (await withServices(recordingServices(calls))(apiGatewayEvent(route, { sub: 'user-1', body, ...(pathParameters ? { pathParameters } : {}) }), lambdaContext(route))) as { statusCode: number };
    expect(answer.statusCode).toBe(200);
    expect(calls).toHaveLength(1);
    expect(nameIn(calls[0]!)).toBe('Work phone');
  });
});
