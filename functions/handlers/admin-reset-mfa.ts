import { UserNotFoundError } from '../domain/errors.js';
import { mfaTable } from '../composition.js';
import { AdminActionRequest, AdminUserPathParameters } from '../http/admin-schemas.js';
import { defineHandler } from '../http/lambda-handler.js';
import { operatorOf, parseBody, pathParametersOf } from '../http/request.js';
import { routeById } from '../http/routes.js';

export const { handler, withServices, ports } = defineHandler(routeById('adminResetMfa'), { table: mfaTable }, async (event, { mfa }) => {
  const operator = operatorOf(event);
  const { userId } = pathParametersOf(event, AdminUserPathParameters, () => new UserNotFoundError());
  const { reason } = parseBody(event, AdminActionRequest);
  return { status: 200, body: await mfa.adminReset(operator, userId, reason) };
});
