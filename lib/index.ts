/**
 * The library entry point for CDK apps that embed serverless-mfa in their own stack:
 * `new ServerlessMfa(this, 'Mfa', { firstFactor: { userPool, clients: [client] } })`.
 */
export { ServerlessMfa, type FirstFactor, type IssuerFirstFactor, type ServerlessMfaProps, type UserPoolFirstFactor } from './serverless-mfa.js';
export { ServerlessMfaStack, type ServerlessMfaStackProps } from './serverless-mfa-stack.js';
export { DeploymentSettingsSchema, MfaOptionsSchema, SettingsError, type MfaOptions, type ServerlessMfaSettings } from './settings.js';
