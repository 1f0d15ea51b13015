import { UserNotFoundError } from '../domain/errors.js';
import { mfaTable } from '../composition.js';
import { AdminUserPathParameters } from '../http/admin-schemas.js';
import { defineHandler } from '../http/lambda-handler.js';
import { operatorOf, pathParametersOf } from '../http/request.js';
import { routeById } from '../http/routes.js';

export const { handler, withServices, ports } = defineHandler(routeById('adminGetMfaStatus'), { table: mfaTable }, async (event, { mfa }) => {
  const operator = operatorOf(event);
  const { userId } = pathParametersOf(event, AdminUserPathParameters, () => new UserNotFoundError());
  return { status: 200, body: await mfa.adminStatus(operator, userId) };
});
