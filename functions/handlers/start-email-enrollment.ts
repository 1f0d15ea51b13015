import { mailSender } from '../adapters/mail-sender.js';
import { mfaTable, totpSecretKey } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, optionalSecondFactorOf, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { OptionalProofRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('startEmailEnrollment'), { table: mfaTable, secretKey: totpSecretKey, mail: mailSender }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const factor = optionalSecondFactorOf(parseBody(event, OptionalProofRequest));
  return { status: 201, body: await mfa.startEmailEnrollment(actor, factor) };
});
