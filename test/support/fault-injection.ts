import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The ways a dependency call fails in production. */
export type FaultKind = 'throttling' | 'internal-error' | 'timeout' | 'connection-reset';
export const FAULT_KINDS: readonly FaultKind[] = ['throttling', 'internal-error', 'timeout', 'connection-reset'];

/**
 * - `before`: the call fails without reaching the service (nothing applied).
 * - `lost-response`: the service applies the call, then the response is lost (a timeout),
 *   so the SDK's own retry sends it again.
 */
export type FaultMode = 'before' | 'lost-response';

/** Words that appear in every injected error and must never reach a client. */
export const LEAK_MARKERS = ['arn:aws:', 'injected-fault', 'mfa-table-secret-name', 'at Object.', '.ts:'] as const;

/**
 * An error shaped as the AWS SDK v3 throws it: service errors carry `$fault` and `$metadata`,
 * transport errors a `name` or a Node `code`. The message names internals on purpose.
 */
export function dependencyError(kind: FaultKind, service: 'DynamoDB' | 'KMS'): Error {
  const message = `injected-fault: ${service} call on arn:aws:${service.toLowerCase()}:eu-west-1:111122223333:table/mfa-table-secret-name`;
  const serviceError = (name: string, fault: 'client' | 'server', httpStatusCode: number) =>
    Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode, requestId: 'injected', attempts: 1 } });
  switch (kind) {
    case 'throttling':
      return serviceError(service === 'DynamoDB' ? 'ThrottlingException' : 'ThrottlingException', 'client', 400);
    case 'internal-error':
      return serviceError(service === 'DynamoDB' ? 'InternalServerError' : 'KMSInternalException', 'server', 500);
    case 'timeout':
      return Object.assign(new Error(message), { name: 'TimeoutError' });
    case 'connection-reset':
      return Object.assign(new Error(message), { code: 'ECONNRESET' });
  }
}

interface PlannedFault {
  at: number;
  kind: FaultKind;
  mode: FaultMode;
}

export interface InjectedFault {
  kind: FaultKind;
  mode: FaultMode;
}

/**
 * Counts every logical SDK call of one or more clients, in order, and makes the chosen one fail.
 * `calls` lists the call sites an operation went through (e.g. `DynamoDB.GetItem`, `KMS.Decrypt`).
 */
export class FaultInjector {
  calls: string[] = [];
  private planned: PlannedFault | undefined;
  private slow: { at: number; ms: number } | undefined;

  /** Fails the `at`-th call (0-based) from now on; clears the call log. */
  failCall(at: number, kind: FaultKind, mode: FaultMode = 'before'): void {
    this.calls = [];
    this.planned = { at, kind, mode };
  }

  reset(): void {
    this.calls = [];
    this.planned = undefined;
    this.slow = undefined;
  }

  /** Makes the `at`-th call (0-based) from now on take `ms` longer, then succeed; clears the call log. */
  slowCall(at: number, ms: number): void {
    this.calls = [];
    this.planned = undefined;
    this.slow = { at, ms };
  }

  /** Records one logical call; waits if it is the slow one; returns the fault it must suffer, if any. */
  async nextCall(site: string): Promise<InjectedFault | undefined> {
    const index = this.calls.push(site) - 1;
    if (this.slow?.at === index) await new Promise((resolve) => setTimeout(resolve, this.slow!.ms));
    const planned = this.planned;
    if (planned?.at !== index) return undefined;
    return { kind: planned.kind, mode: planned.mode };
  }

  /**
   * Adds the fault to a DynamoDB client: one middleware decides per logical call (outside the
   * SDK's retry loop), another acts on each attempt (inside it).
   */
  instrumentDynamoDb(client: DynamoDBClient): DynamoDBClient {
    const decisions = new WeakMap<object, InjectedFault & { attempts: number }>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const fault = await this.nextCall(`DynamoDB.${context.commandName?.replace(/Command$/, '')}`);
        if (fault) decisions.set(context, { ...fault, attempts: 0 });
        return next(args);
      },
      { step: 'initialize', name: 'injectFaultDecision' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const fault = decisions.get(context);
        if (!fault) return next(args);
        fault.attempts += 1;
        if (fault.mode === 'before') throw dependencyError(fault.kind, 'DynamoDB');
        const output = await next(args);
        if (fault.attempts === 1) throw dependencyError('timeout', 'DynamoDB');
        return output;
      },
      { step: 'deserialize', name: 'injectFault', priority: 'low' },
    );
    return client;
  }
}
