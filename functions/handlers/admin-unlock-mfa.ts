import { mfaTable } from '../composition.js';
import { adminRequestOf } from '../http/admin-request.js';
import { AdminActionRequest } from '../http/admin-schemas.js';
import { defineHandler } from '../http/lambda-handler.js';
import { parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';

export const { handler, withServices, ports } = defineHandler(routeById('adminUnlockMfa'), { table: mfaTable }, async (event, { mfa }) => {
  const { operator, userId } = adminRequestOf(event, mfa);
  const { reason } = parseBody(event, AdminActionRequest);
  return { status: 200, body: await mfa.adminUnlock(operator, userId, reason) };
});
