import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { MFA_TABLE } from '../../functions/adapters/aws/mfa-item.js';
import type { RouteAccess } from '../../functions/http/routes.js';
import { encryptionContextOf } from '../../functions/ports/secret-sealer.js';
import type { MfaFunction } from './mfa-function.js';

/**
 * The encryption context every TOTP-secret Encrypt/Decrypt carries, minus the per-user value:
 * derived from the code that sends it, so the policies cannot drift from the calls.
 */
const { userId: _perUser, ...TOTP_SECRET_CONTEXT } = encryptionContextOf({ purpose: 'totp-secret', userId: '' });
const TOTP_SECRET_CONTEXT_KEYS = Object.keys(encryptionContextOf({ purpose: 'totp-secret', userId: '' }));

/** Every KMS operation that takes an encryption context, i.e. every way to use the key's material. */
const CONTEXT_OPERATIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:GenerateDataKeyPair',
  'kms:GenerateDataKeyPairWithoutPlaintext',
];

/**
 * The stored data and the keys that protect it: the MFA table (one item per user), the
 * symmetric key that seals TOTP secrets, and the P-256 key that signs MFA assertions.
 * All of them outlive the stack: deleting the stack must never destroy users' second factors.
 * Grants live here, next to what they grant: a function gets exactly the actions its route
 * lists in the route table, and the configuration that names the resource.
 */
export class DataAndKeys extends Construct {
  readonly table: Table;
  /** Encrypts the table at rest (DynamoDB's server-side encryption). */
  readonly tableKey: Key;
  /** Seals TOTP secrets; usable only with the service's encryption context. */
  readonly totpSecretKey: Key;
  /** Signs MFA assertions (ES256); the private half never leaves KMS. */
  readonly signingKey: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.tableKey = new Key(this, 'TableKey', {
      description: 'serverless-mfa: encrypts the MFA table at rest',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.totpSecretKey = new Key(this, 'TotpSecretKey', {
      description: 'serverless-mfa: seals TOTP secrets (encryption context service, purpose, userId required)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.requireTotpSecretContext();

    this.signingKey = new Key(this, 'AssertionSigningKey', {
      description: 'serverless-mfa: signs MFA assertions (ES256)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.table = new Table(this, 'Table', {
      partitionKey: { name: MFA_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: MFA_TABLE.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: MFA_TABLE.timeToLiveAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.tableKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Grants a route's function what its `access` lists, and sets the configuration naming each resource. */
  grantRouteAccess(fn: MfaFunction, access: RouteAccess): void {
    this.grantTable(fn, access.table);
    this.grantTotpSecretKey(fn, access.secretKey);
    this.grantSigningKey(fn, access.signingKey);
  }

  grantTable(fn: MfaFunction, actions: RouteAccess['table']): void {
    if (actions.length === 0) return;
    fn.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [this.table.tableArn] }));
    // DynamoDB decrypts the table's data key with the caller's credentials (cached for a few
    // minutes per caller); reads and writes both need only that Decrypt, and only through DynamoDB.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.tableKey.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com`,
            'kms:EncryptionContext:aws:dynamodb:tableName': this.table.tableName,
          },
        },
      }),
    );
    fn.addEnvironment('MFA_TABLE_NAME', this.table.tableName);
  }

  grantTotpSecretKey(fn: MfaFunction, actions: RouteAccess['secretKey']): void {
    if (actions.length === 0) return;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: [this.totpSecretKey.keyArn],
        conditions: {
          StringEquals: contextConditions(TOTP_SECRET_CONTEXT),
          // A userId must be bound to every secret, and nothing but the known keys.
          'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['userId'] },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': TOTP_SECRET_CONTEXT_KEYS },
        },
      }),
    );
    fn.addEnvironment('MFA_TOTP_KEY_ID', this.totpSecretKey.keyArn);
  }

  grantSigningKey(fn: MfaFunction, actions: RouteAccess['signingKey']): void {
    if (actions.length === 0) return;
    if (actions.includes('kms:Sign')) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['kms:Sign'],
          resources: [this.signingKey.keyArn],
          // Exactly how KmsAssertionSigner signs: ES256 over the raw JWS signing input.
          conditions: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' } },
        }),
      );
    }
    const others = actions.filter((action) => action !== 'kms:Sign');
    if (others.length > 0) fn.addToRolePolicy(new PolicyStatement({ actions: others, resources: [this.signingKey.keyArn] }));
    fn.addEnvironment('MFA_SIGNING_KEY_ID', this.signingKey.keyArn);
  }

  /**
   * The key policy itself refuses any use of the TOTP-secret key without the service's
   * encryption context, whoever asks and whatever their IAM policies allow. A missing key
   * counts as a mismatch (negated condition operators match absent keys).
   */
  private requireTotpSecretContext(): void {
    for (const [key, value] of Object.entries(TOTP_SECRET_CONTEXT)) {
      this.totpSecretKey.addToResourcePolicy(
        new PolicyStatement({
          sid: `RequireEncryptionContext${key[0]!.toUpperCase()}${key.slice(1)}`,
          effect: Effect.DENY,
          principals: [new AnyPrincipal()],
          actions: CONTEXT_OPERATIONS,
          resources: ['*'],
          conditions: { StringNotEquals: { [`kms:EncryptionContext:${key}`]: value } },
        }),
      );
    }
    this.totpSecretKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'RequireEncryptionContextUserId',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: CONTEXT_OPERATIONS,
        resources: ['*'],
        conditions: { Null: { 'kms:EncryptionContext:userId': 'true' } },
      }),
    );
  }
}

function contextConditions(context: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(context).map(([key, value]) => [`kms:EncryptionContext:${key}`, value]));
}
