import type { Context } from 'aws-lambda';
import { assertionSigningKey } from '../adapters/assertion-signing-key.js';
import { loadPublicConfig, type PublicConfig } from '../public-config.js';
import type { AssertionSigner } from '../ports/assertion-signer.js';
import type { HttpResult, LambdaHttpHandler } from './lambda-handler.js';
import type { HttpEvent } from './request.js';
import { problemResult, respond } from './responses.js';

/** What a public function uses: configuration, and the signing key's public half for the key set. */
export interface PublicServices {
  config: PublicConfig;
  signer: AssertionSigner;
}

export type PublicEndpoint = (event: HttpEvent, services: PublicServices) => Promise<HttpResult>;

/** The port factories a public function can be granted: only the signing key (kms:GetPublicKey). */
export interface PublicPorts {
  signingKey?: typeof assertionSigningKey;
}

/** For a function granted no signing key: using it is a programming error, caught loudly. */
const NO_SIGNER: AssertionSigner = new Proxy({} as AssertionSigner, {
  get: () => {
    throw new Error('This function has no access to the assertion signing key.');
  },
});

/** 5xx only: the logger (Powertools, through observability.ts) is loaded then, not at cold start. */
async function logFailure(failure: { code: string; errorName: string }, context: Context): Promise<void> {
  const { logger } = await import('../observability.js');
  logger.addContext(context);
  logger.error('request failed', failure);
  logger.resetKeys();
}

/**
 * defineHandler for the public, unauthenticated functions (discovery document, key set): the
 * same responses (JSON with the security headers, problem+json for every error, 5xx logged by
 * code and error name), without middy, the route table's schemas, zod, the service or the
 * Powertools logger at cold start. These functions take no input and record no audit events or
 * metrics, so what defineHandler adds at init would be all of their cold start.
 *
 * As with defineHandler, `handler` is built from the environment at import inside Lambda (a
 * function without its configuration refuses to start), and on first use elsewhere; the local
 * server and tests call `withServices` with services they composed (a full `Services` is one).
 */
export function definePublicHandler(ports: PublicPorts, endpoint: PublicEndpoint) {
  const withServices =
    (services: PublicServices): LambdaHttpHandler =>
    async (event, context) => {
      try {
        const result = await endpoint(event, services);
        return respond(result.status, result.body, 'application/json', result.headers);
      } catch (error) {
        const { response, failure } = problemResult(error);
        if (failure) await logFailure(failure, context);
        return response;
      }
    };
  const compose = () => {
    const config = loadPublicConfig(process.env, { signingKey: ports.signingKey !== undefined });
    return withServices({ config, signer: ports.signingKey ? ports.signingKey(config, {}) : NO_SIGNER });
  };
  let built: LambdaHttpHandler | undefined;
  const handler: LambdaHttpHandler = process.env.AWS_LAMBDA_FUNCTION_NAME ? compose() : (event, context) => (built ??= compose())(event, context);
  return { ports, withServices, handler };
}
