import { assertionSigningKey, mfaTable, totpSecretKey } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, keptName, parseBody, secondFactorOf } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { VerifyRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('verifyMfa'), { table: mfaTable, secretKey: totpSecretKey, signingKey: assertionSigningKey }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const body = parseBody(event, VerifyRequest);
  const remember = 'rememberDevice' in body ? body.rememberDevice : undefined;
  const rememberDevice = remember && { ...remember, name: keptName(remember.name) };
  return { status: 200, body: await mfa.verify(actor, secondFactorOf(body), body.nonce, rememberDevice) };
});
