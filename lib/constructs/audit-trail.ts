import { Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnTrail } from 'aws-cdk-lib/aws-cloudtrail';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface AuditTrailProps {
  /** The table whose item writes (data events) the trail records. */
  table: ITable;
  /** Days after which log files are deleted. */
  logExpirationDays: number;
}

/**
 * The DynamoDB data events that change an item: every way to write one, PartiQL included (an
 * `ExecuteStatement` may be a read, recorded too: the functions never send one).
 */
export const TABLE_WRITE_EVENTS = [
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
];

/**
 * The CloudTrail trail auditors read: all management events (which include every KMS
 * Encrypt, Decrypt and Sign with its encryption context) and the MFA table's item writes
 * (data events: who wrote which user's item, the function roles and anyone else), with log file
 * validation, into a bucket that only this trail writes to. The table-write alarm
 * (lib/constructs/table-write-watch.ts) reads the same events. Omitted with
 * `createTrail=false`, when an organisation trail already records both.
 */
export class AuditTrail extends Construct {
  readonly bucket: Bucket;
  readonly trail: CfnTrail;
  /** Known before the trail exists, so the bucket policy can name it (`aws:SourceArn`) without a cycle. */
  readonly trailArn: string;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [
        {
          id: 'age-out-trail-logs',
          transitions: [{ storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) }],
          expiration: Duration.days(props.logExpirationDays),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      // Audit evidence outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only CloudTrail writes to this bucket and each log file is integrity-checked by log file validation; server access logs would need yet another bucket with the same finding.',
    });

    const trailName = Names.uniqueResourceName(this, { maxLength: 128 });
    this.trailArn = `arn:${stack.partition}:cloudtrail:${stack.region}:${stack.account}:trail/${trailName}`;
    // CloudTrail writes here only for this trail of this account (no confused deputy: another
    // account's trail naming this bucket is refused).
    const fromThisTrail = { StringEquals: { 'aws:SourceArn': this.trailArn, 'aws:SourceAccount': stack.account } };
    const cloudTrail = new ServicePrincipal('cloudtrail.amazonaws.com');
    this.bucket.addToResourcePolicy(
      new PolicyStatement({ sid: 'AllowTrailToCheckBucketAcl', principals: [cloudTrail], actions: ['s3:GetBucketAcl'], resources: [this.bucket.bucketArn], conditions: fromThisTrail }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowTrailToWriteLogs',
        principals: [cloudTrail],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`AWSLogs/${stack.account}/*`)],
        conditions: { StringEquals: { ...fromThisTrail.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' } },
      }),
    );

    // The L1 trail: the L2 writes its own bucket policy (without aws:SourceArn) and has only
    // basic event selectors, which cannot select DynamoDB tables.
    this.trail = new CfnTrail(this, 'Trail', {
      trailName,
      s3BucketName: this.bucket.bucketName,
      isLogging: true,
      enableLogFileValidation: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      advancedEventSelectors: [
        {
          name: 'All management events (includes KMS Encrypt, Decrypt, Sign)',
          fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }],
        },
        {
          name: 'MFA table item writes',
          fieldSelectors: [
            { field: 'eventCategory', equalTo: ['Data'] },
            { field: 'resources.type', equalTo: ['AWS::DynamoDB::Table'] },
            { field: 'resources.ARN', equalTo: [props.table.tableArn] },
            { field: 'eventName', equalTo: TABLE_WRITE_EVENTS },
          ],
        },
      ],
    });
    // CloudTrail checks the bucket policy when the trail is created.
    this.trail.node.addDependency(this.bucket.policy!);
  }
}
