import { mfaTable } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, keptName, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { ConfirmRegistrationRequest } from '../http/schemas.js';
import type { RegistrationResponseJSON } from '../methods/webauthn/webauthn.js';

export const { handler, withServices, ports } = defineHandler(routeById('confirmWebAuthnRegistration'), { table: mfaTable }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const { credential, name } = parseBody(event, ConfirmRegistrationRequest);
  return { status: 200, body: await mfa.confirmWebAuthnRegistration(actor, credential as unknown as RegistrationResponseJSON, keptName(name)) };
});
