import type { AwsCall } from '../harness/aws-calls.js';
import { round } from './stats.js';

/**
 * AWS list prices, us-east-1, on-demand, without free tiers or volume tiers beyond the first.
 * Checked against the AWS pricing pages as published in 2026 (KMS: June 2026; DynamoDB on-demand
 * rates since the November 2024 reduction). Change them here; the doc prints these values.
 */
export const PRICES = {
  checked: '2026-11-28',
  region: 'us-east-1',
  apiGatewayHttpApiPerMillionRequests: 1.0,
  lambdaPerMillionRequests: 0.2,
  lambdaArm64PerGbSecond: 0.0000133334,
  dynamoDbOnDemandPerMillionWriteRequestUnits: 0.625,
  dynamoDbOnDemandPerMillionReadRequestUnits: 0.125,
  kmsSymmetricPer10kRequests: 0.03,
  kmsAsymmetricPer10kRequests: 0.15,
} as const;

/**
 * Mirrors lib/constructs/mfa-function.ts (memorySize: 512, Architecture.ARM_64), which does not
 * export them: keep the two in step, or export them from lib/ and import them here.
 */
export const FUNCTION_MEMORY_MB = 512;

/**
 * Typical in-region latency of each call as a function sees it (p50, warm connection). These
 * are assumptions, not measurements: locally KMS is in-process and DynamoDB is DynamoDB Local.
 * The billed duration is the measured compute of the handler plus these.
 */
export const ASSUMED_AWS_LATENCY_MS: Record<string, number> = {
  'dynamodb:GetItem': 4,
  'dynamodb:UpdateItem': 6,
  'kms:Decrypt': 6,
  'kms:Encrypt': 6,
  'kms:Sign': 12,
  'kms:GetPublicKey': 8,
};

export interface CostLine {
  item: string;
  perVerification: number;
  unit: string;
  unitPriceUsd: number;
  priceUnit: string;
  usdPerMillion: number;
}

export interface CostFigure {
  totalUsd: number;
  lines: CostLine[];
  basis: {
    calls: readonly AwsCall[];
    itemBytes: number;
    readRequestUnitsPerGetItem: number;
    writeRequestUnitsPerUpdateItem: number;
    measuredComputeMs: number;
    assumedAwsLatencyMs: number;
    billedDurationMs: number;
    memoryMb: number;
  };
  prices: typeof PRICES;
}

/**
 * Cost of one million successful TOTP verifications from the calls one makes (measured), the
 * verify handler's measured compute, the item size (request units) and the list prices.
 */
/** `requests`: API Gateway requests and Lambda invocations per verification (a key sign-in fetches its challenge first: 2). */
export function costPerMillionVerifications(input: { calls: readonly AwsCall[]; measuredComputeMs: number; itemBytes: number; requests?: number }): CostFigure {
  const requests = input.requests ?? 1;
  const count = (call: AwsCall) => input.calls.filter((candidate) => candidate === call).length;
  const rruPerRead = Math.max(1, Math.ceil(input.itemBytes / 4096));
  const wruPerWrite = Math.max(1, Math.ceil(input.itemBytes / 1024));
  const assumedAwsLatencyMs = input.calls.reduce((sum, call) => sum + (ASSUMED_AWS_LATENCY_MS[call] ?? 0), 0);
  const billedDurationMs = Math.ceil(input.measuredComputeMs + assumedAwsLatencyMs);
  const gbSeconds = (FUNCTION_MEMORY_MB / 1024) * (billedDurationMs / 1000);
  const kmsSymmetric = count('kms:Decrypt') + count('kms:Encrypt');
  const kmsAsymmetric = count('kms:Sign') + count('kms:GetPublicKey');

  const lines: CostLine[] = [
    { item: 'API Gateway HTTP API request', perVerification: requests, unit: 'request', unitPriceUsd: PRICES.apiGatewayHttpApiPerMillionRequests, priceUnit: 'per million requests', usdPerMillion: requests * PRICES.apiGatewayHttpApiPerMillionRequests },
    { item: 'Lambda request', perVerification: requests, unit: 'request', unitPriceUsd: PRICES.lambdaPerMillionRequests, priceUnit: 'per million requests', usdPerMillion: requests * PRICES.lambdaPerMillionRequests },
    {
      item: `Lambda duration (arm64, ${FUNCTION_MEMORY_MB} MB, ${billedDurationMs} ms billed)`,
      perVerification: round(gbSeconds, 6),
      unit: 'GB-s',
      unitPriceUsd: PRICES.lambdaArm64PerGbSecond,
      priceUnit: 'per GB-s',
      usdPerMillion: gbSeconds * 1e6 * PRICES.lambdaArm64PerGbSecond,
    },
    {
      item: `DynamoDB strongly consistent reads (${count('dynamodb:GetItem')} GetItem x ${rruPerRead} RRU)`,
      perVerification: count('dynamodb:GetItem') * rruPerRead,
      unit: 'RRU',
      unitPriceUsd: PRICES.dynamoDbOnDemandPerMillionReadRequestUnits,
      priceUnit: 'per million RRU',
      usdPerMillion: count('dynamodb:GetItem') * rruPerRead * PRICES.dynamoDbOnDemandPerMillionReadRequestUnits,
    },
    {
      item: `DynamoDB writes (${count('dynamodb:UpdateItem')} UpdateItem x ${wruPerWrite} WRU, item ${input.itemBytes} B)`,
      perVerification: count('dynamodb:UpdateItem') * wruPerWrite,
      unit: 'WRU',
      unitPriceUsd: PRICES.dynamoDbOnDemandPerMillionWriteRequestUnits,
      priceUnit: 'per million WRU',
      usdPerMillion: count('dynamodb:UpdateItem') * wruPerWrite * PRICES.dynamoDbOnDemandPerMillionWriteRequestUnits,
    },
    {
      item: `KMS symmetric requests (${kmsSymmetric} Decrypt)`,
      perVerification: kmsSymmetric,
      unit: 'request',
      unitPriceUsd: PRICES.kmsSymmetricPer10kRequests,
      priceUnit: 'per 10,000 requests',
      usdPerMillion: kmsSymmetric * 100 * PRICES.kmsSymmetricPer10kRequests,
    },
    {
      item: `KMS asymmetric requests (${kmsAsymmetric} Sign, ECC P-256)`,
      perVerification: kmsAsymmetric,
      unit: 'request',
      unitPriceUsd: PRICES.kmsAsymmetricPer10kRequests,
      priceUnit: 'per 10,000 requests',
      usdPerMillion: kmsAsymmetric * 100 * PRICES.kmsAsymmetricPer10kRequests,
    },
  ].map((line) => ({ ...line, usdPerMillion: round(line.usdPerMillion, 3) }));

  return {
    totalUsd: round(lines.reduce((sum, line) => sum + line.usdPerMillion, 0), 2),
    lines,
    basis: {
      calls: input.calls,
      itemBytes: input.itemBytes,
      readRequestUnitsPerGetItem: rruPerRead,
      writeRequestUnitsPerUpdateItem: wruPerWrite,
      measuredComputeMs: round(input.measuredComputeMs, 2),
      assumedAwsLatencyMs,
      billedDurationMs,
      memoryMb: FUNCTION_MEMORY_MB,
    },
    prices: PRICES,
  };
}

/**
 * Amazon Cognito's published price per monthly active user (user pools, 2026), for comparison.
 * Cognito's price covers the whole sign-in (first factor, hosted UI, federation); this service
 * is only the second factor, behind whatever first factor the operator runs.
 */
export const COGNITO_PER_MAU_USD = { lite: 0.0055, essentials: 0.015, plus: 0.02, published: '2026' } as const;

/** The sign-ins a monthly active user is assumed to make, each with one second-factor verification. */
export const SIGN_INS_PER_MONTHLY_ACTIVE_USER = 30;

export interface MethodCost {
  /** The scenario of harness/minimum-aws-calls.ts whose measured calls are priced. */
  scenario: string;
  usdPerMillionVerifications: number;
  usdPerMonthlyActiveUser: number;
  /** Cognito's per-MAU price over this method's, per tier. */
  cognitoMultiple: { lite: number; essentials: number; plus: number };
  kmsShare: number;
  figure: CostFigure;
}

/**
 * Cost per million verifications and per monthly active user (at SIGN_INS_PER_MONTHLY_ACTIVE_USER
 * sign-ins) for each sign-in method, from its measured calls and its handler's own work.
 * A method without a measured scenario yet (WebAuthn until it lands) is simply not passed.
 */
export function costByMethod(
  methods: Record<string, { scenario: string; calls: readonly AwsCall[]; measuredComputeMs: number; requests?: number }>,
  itemBytes: number,
): Record<string, MethodCost> {
  return Object.fromEntries(
    Object.entries(methods).map(([method, input]) => {
      const figure = costPerMillionVerifications({ calls: input.calls, measuredComputeMs: input.measuredComputeMs, itemBytes, ...(input.requests ? { requests: input.requests } : {}) });
      const perMau = (figure.totalUsd / 1e6) * SIGN_INS_PER_MONTHLY_ACTIVE_USER;
      const kms = figure.lines.filter((line) => line.item.startsWith('KMS')).reduce((sum, line) => sum + line.usdPerMillion, 0);
      return [
        method,
        {
          scenario: input.scenario,
          usdPerMillionVerifications: figure.totalUsd,
          usdPerMonthlyActiveUser: round(perMau, 6),
          cognitoMultiple: {
            lite: round(COGNITO_PER_MAU_USD.lite / perMau, 1),
            essentials: round(COGNITO_PER_MAU_USD.essentials / perMau, 1),
            plus: round(COGNITO_PER_MAU_USD.plus / perMau, 1),
          },
          kmsShare: round(kms / figure.totalUsd, 3),
          figure,
        },
      ];
    }),
  );
}
