import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { ConfirmEnrollmentRequest } from '../http/schemas.js';

export const { handler, withServices } = defineHandler(routeById('confirmTotpEnrollment'), async (event, { mfa }) => {
  const actor = actorOf(event);
  const { code } = parseBody(event, ConfirmEnrollmentRequest);
  return { status: 200, body: await mfa.confirmTotpEnrollment(actor, code) };
});
