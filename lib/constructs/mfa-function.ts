import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { ServicePrincipal, Role, type PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionCode } from '../assets.js';
import { LAMBDA_RUNTIME } from '../runtime.js';

export const POWERTOOLS_SERVICE_NAME = 'serverless-mfa';
export const POWERTOOLS_METRICS_NAMESPACE = 'ServerlessMfa';

export interface MfaFunctionProps {
  /** The function's pre-built code: `assets/functions/<asset>/index.mjs` exports `handler` (lib/assets.ts). */
  asset: string;
  description: string;
  logRetention: RetentionDays;
  logLevel: string;
  environment?: Record<string, string>;
}

/**
 * A Lambda function with the team's defaults, in one place: pre-built code (ESM, minified,
 * source maps, lazily loaded chunks; built by scripts/package/assets.ts), arm64, the newest
 * Node.js runtime, active X-Ray tracing, Powertools environment, its own role (no managed
 * policies) and its own retained log group.
 * Callers add permissions with `addToRolePolicy` and configuration with `addEnvironment`, and
 * acknowledge the dead-letter findings for how the function is invoked (`acknowledgeInvocation`).
 */
export class MfaFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: MfaFunctionProps) {
    super(scope, id);

    // Audit lines live in these log groups: they outlive the stack.
    this.logGroup = new LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs: ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new LambdaFunction(this, 'Function', {
      code: functionCode(props.asset),
      handler: 'index.handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    });

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (resource must be "*").',
      },
    );
  }

  /** cdk-nag's dead-letter rules, acknowledged with the reason that holds for how this function is invoked. */
  acknowledgeInvocation(reason: { deadLetterQueue: string; asyncFailureDestination: string }): void {
    Validations.of(this).acknowledge(
      { id: 'Serverless-LambdaDLQ', reason: reason.deadLetterQueue },
      { id: 'Serverless-LambdaAsyncFailureDestination', reason: reason.asyncFailureDestination },
    );
  }

  addToRolePolicy(statement: PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }

  addEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }
}
