import { mfaTable, totpSecretKey } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { qrCodeDataUrl } from '../http/qr-code.js';
import { actorOf, optionalSecondFactorOf, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { OptionalProofRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('startTotpEnrollment'), { table: mfaTable, secretKey: totpSecretKey }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const factor = optionalSecondFactorOf(parseBody(event, OptionalProofRequest));
  const { secret, otpauthUri, expiresAt } = await mfa.startTotpEnrollment(actor, factor);
  return { status: 201, body: { secret, otpauthUri, qrCode: await qrCodeDataUrl(otpauthUri), expiresAt } };
});
