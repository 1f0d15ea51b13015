import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest } from '@smithy/types';

/** The stack output that holds the API's base URL (lib/serverless-mfa-stack.ts). */
export const API_URL_OUTPUT = 'ApiUrl';

export type AdminCommand = 'status' | 'reset' | 'unlock';

/** How a request reaches the admin API: SigV4 in the cloud (API Gateway's IAM authorizer), the dev admin token locally. */
export type AdminAuth =
  | { kind: 'sigv4'; region: string; credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider }
  | { kind: 'local-token'; token: string };

export interface AdminResponse {
  status: number;
  body: unknown;
}

/** The admin route of a command, with the user id as one encoded path segment. */
export function adminRequestOf(command: AdminCommand, userId: string, reason?: string): { method: 'GET' | 'POST'; path: string; body?: string } {
  const base = `/admin/v1/users/${encodeURIComponent(userId)}/mfa`;
  if (command === 'status') return { method: 'GET', path: base };
  return { method: 'POST', path: `${base}/${command}`, body: JSON.stringify({ reason }) };
}

/**
 * Signs a request for API Gateway's IAM authorizer: SigV4 for the `execute-api` service,
 * over the host, the date and the body's hash.
 */
export async function signRequest(
  url: URL,
  request: { method: string; body?: string | undefined; headers: Record<string, string> },
  auth: Extract<AdminAuth, { kind: 'sigv4' }>,
  signingDate?: Date,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: 'execute-api', region: auth.region, credentials: auth.credentials, sha256: Sha256 });
  const unsigned: HttpRequest = {
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams.entries()),
    headers: { ...request.headers, host: url.host },
    ...(request.body !== undefined ? { body: request.body } : {}),
  };
  const signed = await signer.sign(unsigned, signingDate ? { signingDate } : {});
  return signed.headers;
}

/** Calls one admin route; answers with the status and the parsed JSON (a problem on errors). */
export async function callAdmin(baseUrl: string, auth: AdminAuth, command: AdminCommand, userId: string, reason?: string): Promise<AdminResponse> {
  const { method, path, body } = adminRequestOf(command, userId, reason);
  const url = new URL(path.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  let headers: Record<string, string> = { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
  headers = auth.kind === 'sigv4' ? await signRequest(url, { method, body, headers }, auth) : { ...headers, authorization: `Bearer ${auth.token}` };
  // fetch sets the host itself (the signed one: same URL); it refuses a host header of ours.
  const { host: _host, ...sendable } = headers;
  const response = await reach(url, { method, headers: sendable, ...(body !== undefined ? { body } : {}) }, auth.kind === 'local-token' ? LOCAL_HINT : '');
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (API Gateway's own answers are JSON; anything else is shown as it came).
  }
  return { status: response.status, body: parsed };
}

/** The local server `npm start` runs: http://localhost:$PORT, port 3000 unless PORT says otherwise (as `npm start` reads it). */
export function localBaseUrl(env: Record<string, string | undefined> = process.env): string {
  const port = env.PORT?.trim() || '3000';
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new Error(`PORT must be a port number (1-65535), not ${JSON.stringify(env.PORT)}.`);
  return `http://localhost:${Number(port)}`;
}

const LOCAL_HINT = ' Is `npm start` running there? It listens on PORT (default 3000); set the same PORT here, or pass --local URL.';

/** fetch, with a refusal that names the URL it could not reach (fetch itself says only "fetch failed"). */
async function reach(url: URL, init: RequestInit, hint: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error).message;
    throw new Error(`Could not reach ${url.origin} (${why}).${hint}`);
  }
}

/** The local server's operator token (POST /dev/admin-token). */
export async function localAdminToken(baseUrl: string): Promise<string> {
  const response = await reach(
    new URL('dev/admin-token', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`),
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    LOCAL_HINT,
  );
  if (!response.ok) throw new Error(`The local server at ${baseUrl} gave no admin token (HTTP ${response.status}). Is it \`npm start\`?`);
  const { token } = (await response.json()) as { token?: unknown };
  if (typeof token !== 'string') throw new Error('The local server answered without a token.');
  return token;
}

/** The deployed API's base URL, from the stack's `ApiUrl` output. */
export async function apiUrlOfStack(client: Pick<CloudFormationClient, 'send'>, stackName: string): Promise<string> {
  const { Stacks: stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const url = stacks?.[0]?.Outputs?.find((output) => output.OutputKey === API_URL_OUTPUT)?.OutputValue;
  if (!url) throw new Error(`The stack ${stackName} has no ${API_URL_OUTPUT} output.`);
  return url;
}
