import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ServerlessMfaStack, type ServerlessMfaStackProps } from './serverless-mfa-stack.js';

export const DEFAULT_STACK_NAME = 'ServerlessMfa';

/**
 * The CDK app: the stack (named by the `stackName` context, default ServerlessMfa) and the
 * cdk-nag rule packs, which run as validation plugins on every synth and fail it on any
 * finding that is not acknowledged with a reason next to the resource it concerns.
 */
export function createApp(props: AppProps = {}, stackProps: ServerlessMfaStackProps = {}): { app: App; stack: ServerlessMfaStack } {
  const app = new App(props);
  const stackName = String(app.node.tryGetContext('stackName') ?? DEFAULT_STACK_NAME);
  const stack = new ServerlessMfaStack(app, stackName, stackProps);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}
