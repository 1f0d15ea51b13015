import { UserNotFoundError } from '../domain/errors.js';
import type { AdmittedOperator, MfaService } from '../service/mfa-service.js';
import { AdminUserPathParameters } from './admin-schemas.js';
import { WITHOUT_CONTROL_OR_FORMAT } from './characters.js';
import { InvalidRequestError } from './problems.js';
import { checkedPathParameters, operatorOf, type HttpEvent } from './request.js';

/**
 * Who calls an operator route and about whom, in this order: the principal API Gateway's IAM
 * authorizer verified (401 without one); admitted only when the deployment names it (403
 * `forbidden`, audited), before anything else of the request is read; then the path's
 * `{userId}`: one with control or format characters is refused (400 `invalid_request`), any
 * other that cannot name a user is not found (404).
 */
export function adminRequestOf(event: HttpEvent, mfa: Pick<MfaService, 'admitOperator'>): { operator: AdmittedOperator; userId: string } {
  const target = checkedPathParameters(event, AdminUserPathParameters);
  const operator = mfa.admitOperator(operatorOf(event), target?.userId);
  if (target) return { operator, userId: target.userId };
  const userId = event.pathParameters?.userId;
  if (typeof userId === 'string' && !WITHOUT_CONTROL_OR_FORMAT.test(userId)) throw new InvalidRequestError('The user id contains control or format characters.');
  throw new UserNotFoundError();
}
