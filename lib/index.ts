/**
 * The package's main entry point (`import { ServerlessMfa } from 'serverless-mfa'`), for CDK apps
 * that embed serverless-mfa in their own stack:
 * `new ServerlessMfa(this, 'Mfa', { firstFactor: { userPool, clients: [client] }, webAuthnRpId: 'example.com' })`.
 * The functions and the web client it deploys are pre-built assets of the package (lib/assets.ts).
 */
export { ServerlessMfa, type FirstFactor, type IssuerFirstFactor, type ServerlessMfaProps, type UserPoolFirstFactor } from './serverless-mfa.js';
export { SettingsError, type MfaOptions } from './settings.js';
