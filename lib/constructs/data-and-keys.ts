import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { AccountRootPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { MFA_TABLE } from '../../functions/adapters/aws/mfa-item.js';
import type { RouteAccess } from '../../functions/http/routes.js';
import { encryptionContextOf, SEAL_PURPOSES } from '../../functions/ports/secret-sealer.js';
import type { MfaFunction } from './mfa-function.js';

/**
 * The encryption context every secret-key Encrypt/Decrypt carries, minus the per-user value:
 * derived from the code that sends it, so the policies cannot drift from the calls. The purpose
 * is one of the sealer's (a TOTP secret, or the key of one email code's hash).
 */
const { userId: _perUser, purpose: _purpose, ...FIXED_CONTEXT } = encryptionContextOf({ purpose: 'totp-secret', userId: '' });
const TOTP_SECRET_CONTEXT: Record<string, string | string[]> = { ...FIXED_CONTEXT, purpose: [...SEAL_PURPOSES] };
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
 * What the account (its IAM administrators) may do on the TOTP-secret and signing keys: manage
 * them, never use them. No Encrypt, Decrypt, Sign or GenerateDataKey, and no CreateGrant (a grant
 * is a way to use the key). PutKeyPolicy stays: it is the documented break-glass path
 * (docs/deploying.md), recorded in CloudTrail and watched by the key-use alarm.
 */
export const KEY_ADMINISTRATION_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListGrants',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:UpdateKeyDescription',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:RotateKeyOnDemand',
  'kms:RevokeGrant',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/** What DynamoDB does with the table key on a caller's behalf: create the table's grant, and encrypt and decrypt its data keys. */
export const TABLE_KEY_USE_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:CreateGrant',
  'kms:DescribeKey',
];

/** What DynamoDB itself reads about the table key (it checks the key's state and grants). */
const TABLE_KEY_METADATA_ACTIONS = ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListGrants', 'kms:ListKeyPolicies', 'kms:ListResourceTags'];

/** Table actions that change items: the roles granted any of them are the table's expected writers. */
export const TABLE_WRITE_ACTIONS: readonly string[] = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

/** A function role allowed to use one of the service's keys, and for what (the key-use alarm ignores exactly these). */
export interface KeyUser {
  role: IRole;
  actions: readonly string[];
}

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
  /** Who may use each key, as granted from the route table; the key policies name exactly these roles. */
  readonly keyUsers = { totpSecretKey: [] as KeyUser[], signingKey: [] as KeyUser[] };
  /** The function roles granted a table write (the table-write alarm ignores exactly these). */
  readonly tableWriters: IRole[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);

    // The key policies given here replace CDK's default (account root: kms:*): the account may
    // administer the three keys. The table key is used only by DynamoDB, on behalf of the
    // account's principals whose IAM allows it (the function roles); the other two only by the
    // function roles granted below.
    this.tableKey = new Key(this, 'TableKey', {
      description: 'serverless-mfa: encrypts the MFA table at rest',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: usedOnlyThroughDynamoDb(Stack.of(this)),
    });

    this.totpSecretKey = new Key(this, 'TotpSecretKey', {
      description: 'serverless-mfa: seals TOTP secrets (encryption context service, purpose, userId required)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: administeredByAccount(),
    });
    this.requireTotpSecretContext();

    this.signingKey = new Key(this, 'AssertionSigningKey', {
      description: 'serverless-mfa: signs MFA assertions (ES256)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: administeredByAccount(),
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
      // Feeds the change-event publisher (lib/constructs/change-events.ts): the item after each write.
      stream: StreamViewType.NEW_IMAGE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Grants a route's function what its `access` lists, and sets the configuration naming each resource. */
  grantRouteAccess(fn: MfaFunction, access: RouteAccess): void {
    this.grantTable(fn, access.table);
    this.grantTotpSecretKey(fn, access.secretKey);
    this.grantSigningKey(fn, access.signingKey);
  }

  /**
   * `leadingKeys`: the partition keys (patterns) the function may touch, when it is not every
   * user's item (the notice function writes its idempotency records only).
   */
  grantTable(fn: MfaFunction, actions: RouteAccess['table'], options: { leadingKeys?: readonly string[] } = {}): void {
    if (actions.length === 0) return;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: [this.table.tableArn],
        ...(options.leadingKeys ? { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...options.leadingKeys] } } } : {}),
      }),
    );
    if (actions.some((action) => TABLE_WRITE_ACTIONS.includes(action))) this.tableWriters.push(fn.role);
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
    const conditions = {
      StringEquals: contextConditions(TOTP_SECRET_CONTEXT),
      // A userId must be bound to every secret, and nothing but the known keys.
      'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['userId'] },
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': TOTP_SECRET_CONTEXT_KEYS },
    };
    // Both policies: the role's says what the function may do, the key's who may use the key at all.
    fn.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [this.totpSecretKey.keyArn], conditions }));
    this.allowKeyUse(this.totpSecretKey, fn, new PolicyStatement({ actions: [...actions], resources: ['*'], conditions }));
    this.keyUsers.totpSecretKey.push({ role: fn.role, actions });
    fn.addEnvironment('MFA_TOTP_KEY_ID', this.totpSecretKey.keyArn);
  }

  grantSigningKey(fn: MfaFunction, actions: RouteAccess['signingKey']): void {
    if (actions.length === 0) return;
    if (actions.includes('kms:Sign')) {
      // Exactly how KmsAssertionSigner signs: ES256 over the raw JWS signing input.
      const conditions = { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' } };
      fn.addToRolePolicy(new PolicyStatement({ actions: ['kms:Sign'], resources: [this.signingKey.keyArn], conditions }));
      this.allowKeyUse(this.signingKey, fn, new PolicyStatement({ actions: ['kms:Sign'], resources: ['*'], conditions }), 'Sign');
    }
    const others = actions.filter((action) => action !== 'kms:Sign');
    if (others.length > 0) {
      fn.addToRolePolicy(new PolicyStatement({ actions: others, resources: [this.signingKey.keyArn] }));
      this.allowKeyUse(this.signingKey, fn, new PolicyStatement({ actions: others, resources: ['*'] }), 'Read');
    }
    this.keyUsers.signingKey.push({ role: fn.role, actions });
    fn.addEnvironment('MFA_SIGNING_KEY_ID', this.signingKey.keyArn);
  }

  /** A key policy statement naming the function's role: without it the role's own policy cannot use the key. */
  private allowKeyUse(key: Key, fn: MfaFunction, statement: PolicyStatement, suffix = ''): void {
    statement.sid = `AllowUseBy${fn.node.id}${suffix}`;
    statement.addPrincipals(fn.role);
    key.addToResourcePolicy(statement);
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

/** The starting key policy of the TOTP-secret and signing keys: the account administers, nobody uses. */
function administeredByAccount(): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'AllowKeyAdministrationByAccount',
        principals: [new AccountRootPrincipal()],
        actions: KEY_ADMINISTRATION_ACTIONS,
        resources: ['*'],
      }),
    ],
  });
}

/**
 * The table key's policy: the account administers it (KEY_ADMINISTRATION_ACTIONS, never a use),
 * and may use it only through DynamoDB in this region and for callers of this account
 * (`kms:ViaService`, `kms:CallerAccount`), so no principal can decrypt or encrypt with it
 * directly, whatever its IAM policy says. DynamoDB itself may read the key's metadata.
 */
function usedOnlyThroughDynamoDb(stack: Stack): PolicyDocument {
  const document = administeredByAccount();
  document.addStatements(
    new PolicyStatement({
      sid: 'AllowUseThroughDynamoDbByAccountPrincipals',
      principals: [new AccountRootPrincipal()],
      actions: TABLE_KEY_USE_ACTIONS,
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com`, 'kms:CallerAccount': stack.account } },
    }),
    new PolicyStatement({
      sid: 'AllowDynamoDbToReadKeyMetadata',
      principals: [new ServicePrincipal('dynamodb.amazonaws.com')],
      actions: TABLE_KEY_METADATA_ACTIONS,
      resources: ['*'],
    }),
  );
  return document;
}

function contextConditions(context: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(context).map(([key, value]) => [`kms:EncryptionContext:${key}`, value]));
}
