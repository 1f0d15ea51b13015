import { mailSender } from '../adapters/mail-sender.js';
import { mfaTable, totpSecretKey } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { EmptyRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('startEmailChallenge'), { table: mfaTable, secretKey: totpSecretKey, mail: mailSender }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  parseBody(event, EmptyRequest);
  return { status: 201, body: await mfa.startEmailChallenge(actor) };
});
