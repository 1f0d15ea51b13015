/**
 * `npm run admin -- status|reset|unlock --user ID [--reason TEXT] [--local URL | --stack NAME --region REGION | --api-url URL --region REGION]`
 *
 * Support staff's tool for the admin API. In the cloud it signs each call with SigV4 from the
 * standard AWS credential chain (environment, profile, SSO, instance role): the caller needs
 * the stack's admin policy. Locally it uses the dev admin token of `npm start`, at
 * http://localhost:$PORT (3000 unless PORT is set, as for `npm start`) or --local URL.
 */
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { apiUrlOfStack, callAdmin, localAdminToken, localBaseUrl, type AdminAuth, type AdminCommand } from './admin-client.js';

const USAGE = `Usage: npm run admin -- <status|reset|unlock> --user ID [--reason TEXT]
         [--local URL]                      the local server (default http://localhost:$PORT, PORT 3000 unless set)
         [--stack NAME --region REGION]     a deployed stack: its ApiUrl output, SigV4-signed
         [--api-url URL --region REGION]    a deployed API by URL, SigV4-signed
reset and unlock need --reason (1-500 characters): it goes to the audit trail.`;

const COMMANDS: readonly AdminCommand[] = ['status', 'reset', 'unlock'];

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        user: { type: 'string' },
        reason: { type: 'string' },
        local: { type: 'string' },
        stack: { type: 'string' },
        region: { type: 'string' },
        'api-url': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const command = positionals[0] as AdminCommand | undefined;
  if (!command || !COMMANDS.includes(command) || positionals.length > 1) fail('Name one command: status, reset or unlock.');
  if (!values.user) fail('--user is required.');
  if (command !== 'status' && !values.reason?.trim()) fail(`${command} needs --reason.`);
  const cloud = values.stack !== undefined || values['api-url'] !== undefined;
  if (cloud && values.local !== undefined) fail('Use either --local or --stack/--api-url.');
  if (values.stack !== undefined && values['api-url'] !== undefined) fail('Use either --stack or --api-url.');

  let baseUrl: string;
  let auth: AdminAuth;
  if (cloud) {
    const region = values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) fail('--region is required (or AWS_REGION).');
    baseUrl = values['api-url'] ?? (await apiUrlOfStack(new CloudFormationClient({ region }), values.stack!));
    auth = { kind: 'sigv4', region, credentials: fromNodeProviderChain() };
  } else {
    baseUrl = values.local ?? localBaseUrl();
    auth = { kind: 'local-token', token: await localAdminToken(baseUrl) };
  }
  const { status, body } = await callAdmin(baseUrl, auth, command, values.user, values.reason);
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  if (status >= 200 && status < 300) {
    console.log(text);
    return 0;
  }
  console.error(`HTTP ${status}\n${text}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message ?? String(error));
    process.exit(1);
  },
);
