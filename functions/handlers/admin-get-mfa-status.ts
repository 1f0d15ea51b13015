import { mfaTable } from '../composition.js';
import { adminRequestOf } from '../http/admin-request.js';
import { defineHandler } from '../http/lambda-handler.js';
import { routeById } from '../http/routes.js';

export const { handler, withServices, ports } = defineHandler(routeById('adminGetMfaStatus'), { table: mfaTable }, async (event, { mfa }) => {
  const { operator, userId } = adminRequestOf(event, mfa);
  return { status: 200, body: await mfa.adminStatus(operator, userId) };
});
