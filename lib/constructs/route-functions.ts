import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../functions/http/routes.js';
import type { DataAndKeys } from './data-and-keys.js';
import { MfaFunction } from './mfa-function.js';

export interface RouteFunctionsProps {
  /** @internal */
  routes: readonly RouteDefinition[];
  dataAndKeys: DataAndKeys;
  /** Configuration every function reads at cold start (functions/config.ts). */
  environment: Record<string, string>;
  logRetention: RetentionDays;
  logLevel: string;
}

/**
 * One function per route table entry, each with exactly the permissions and configuration its
 * `access` lists. Adding a route to the table adds its function here; nothing else to edit.
 */
export class RouteFunctions extends Construct {
  /** @internal By route id. */
  readonly byRoute = new Map<string, { route: RouteDefinition; fn: MfaFunction }>();

  constructor(scope: Construct, id: string, props: RouteFunctionsProps) {
    super(scope, id);
    for (const route of props.routes) {
      const fn = new MfaFunction(this, pascalCase(route.id), {
        asset: route.handler,
        description: `serverless-mfa ${route.id}: ${route.method} ${route.path}`,
        logRetention: props.logRetention,
        logLevel: props.logLevel,
        environment: props.environment,
      });
      fn.acknowledgeInvocation({
        deadLetterQueue: 'Only API Gateway invokes this function, synchronously: a failure is returned to the caller, there is no event to park in a dead-letter queue.',
        asyncFailureDestination: 'Only API Gateway invokes this function, synchronously: on-failure destinations apply to asynchronous invocations only.',
      });
      props.dataAndKeys.grantRouteAccess(fn, route.access);
      this.byRoute.set(route.id, { route, fn });
    }
  }

  get all(): MfaFunction[] {
    return [...this.byRoute.values()].map(({ fn }) => fn);
  }
}

function pascalCase(id: string): string {
  return id[0]!.toUpperCase() + id.slice(1);
}
