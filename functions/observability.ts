import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Created once per container and shared by every module, as Powertools recommends. */
export const logger = new Logger({ serviceName: 'serverless-mfa' });
export const metrics = new Metrics({ namespace: 'ServerlessMfa', serviceName: 'serverless-mfa' });
