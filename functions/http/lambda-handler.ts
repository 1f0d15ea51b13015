import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createServices, type PortFactories, type Services } from '../composition.js';
import { logger, publishAuditMetrics } from '../observability.js';
import { loadDeferredSchemas, PendingSchemaMismatch } from './precompiled-schema.js';
import type { HttpEvent } from './request.js';
import { problemResult, respond } from './responses.js';
import type { RouteDefinition } from './routes.js';

export interface HttpResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Endpoint = (event: HttpEvent, services: Services) => Promise<HttpResult>;
export type LambdaHttpHandler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Writes the audit metrics (failures, lockouts) after each invocation that counted any.
 * Powertools' logMetrics middleware would warn on every quiet invocation, i.e. most of them.
 */
const publishMetricsIfAny: middy.MiddlewareObj<HttpEvent, APIGatewayProxyStructuredResultV2> = {
  after: publishAuditMetrics,
};

/** The one place that turns an error into an HTTP response: problem+json, details only for 4xx. */
export function problemResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  const { response, failure } = problemResult(error);
  if (failure) logger.error('request failed', failure);
  return response;
}

/**
 * Wraps an endpoint as a Lambda handler: Powertools logging and metrics through middy,
 * problem responses for every error.
 *
 * `ports` are the factories of the resources the route's access grants (see composition.ts):
 * naming them here, rather than in a shared module, keeps every other adapter and SDK client
 * out of this function's bundle.
 *
 * In Lambda, `handler` is built from the environment at import (cold start), so a function
 * without its configuration refuses to start. Elsewhere it is built on first use, so that
 * the local server and tests can import the module and call `withServices` with services
 * they composed from an explicit environment.
 */
export function defineHandler(route: RouteDefinition, ports: PortFactories, endpoint: Endpoint) {
  // In a bundle, a request schema that could not be precompiled loads zod now, at init; a no-op elsewhere.
  const schemasReady = loadDeferredSchemas([route.request, route.pathParameters]);
  // Awaited by every request, which answers any failure; never an unhandled rejection at init.
  schemasReady.catch(() => {});
  const withServices = (services: Services): LambdaHttpHandler =>
    middy<HttpEvent, APIGatewayProxyStructuredResultV2, Error, Context>()
      // Never the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: it carries the bearer token and the codes.
      .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
      .use(publishMetricsIfAny)
      .handler(async (event) => {
        try {
          await schemasReady;
          const result = await endpoint(event, services);
          return respond(result.status, result.body, 'application/json', result.headers);
        } catch (error) {
          return problemResponse(error instanceof PendingSchemaMismatch ? await error.explain() : error);
        }
      });
  let built: LambdaHttpHandler | undefined;
  const compose = () => withServices(createServices(route, process.env, {}, { ports }));
  const handler: LambdaHttpHandler = process.env.AWS_LAMBDA_FUNCTION_NAME
    ? compose()
    : (event, context) => (built ??= compose())(event, context);
  return { route, ports, withServices, handler };
}
