import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { EmptyRequest } from '../http/schemas.js';

export const { handler, withServices } = defineHandler(routeById('startTotpEnrollment'), async (event, { mfa }) => {
  const actor = actorOf(event);
  parseBody(event, EmptyRequest);
  return { status: 201, body: await mfa.startTotpEnrollment(actor) };
});
