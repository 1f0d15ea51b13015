import { mfaTable } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { DeviceChallengeRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('startDeviceChallenge'), { table: mfaTable }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const { deviceId } = parseBody(event, DeviceChallengeRequest);
  return { status: 201, body: await mfa.startDeviceChallenge(actor, deviceId) };
});
