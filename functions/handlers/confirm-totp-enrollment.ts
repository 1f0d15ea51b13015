import { mfaTable, totpSecretKey } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, keptName, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { ConfirmEnrollmentRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('confirmTotpEnrollment'), { table: mfaTable, secretKey: totpSecretKey }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const { code, name } = parseBody(event, ConfirmEnrollmentRequest);
  return { status: 200, body: await mfa.confirmTotpEnrollment(actor, code, keptName(name)) };
});
