import { Runtime } from 'aws-cdk-lib/aws-lambda';

/**
 * The newest Node.js runtime this CDK version offers; test/infra checks it stays the newest.
 * Apart from lib/bundling.ts (build time: esbuild, the schema compiler), so that the construct
 * consumers install carries none of the build tooling.
 */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
