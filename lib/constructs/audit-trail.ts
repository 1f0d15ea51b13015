import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { CfnTrail, Trail } from 'aws-cdk-lib/aws-cloudtrail';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface AuditTrailProps {
  /** The table whose item-level API calls (data events) the trail records. */
  table: ITable;
  /** Days after which log files are deleted. */
  logExpirationDays: number;
}

/**
 * The CloudTrail trail auditors read: all management events (which include every KMS
 * Encrypt, Decrypt and Sign with its encryption context) and the MFA table's data events,
 * with log file validation, into a bucket that only CloudTrail writes to.
 * Omitted with `createTrail=false`, when an organisation trail already records both.
 */
export class AuditTrail extends Construct {
  readonly bucket: Bucket;
  readonly trail: Trail;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);

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

    this.trail = new Trail(this, 'Trail', {
      bucket: this.bucket,
      enableFileValidation: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
    });
    const cfnTrail = this.trail.node.defaultChild as CfnTrail;
    // Advanced selectors (the L2 has only basic ones, which cannot select DynamoDB tables).
    // A trail takes basic or advanced selectors, never both.
    cfnTrail.addPropertyDeletionOverride('EventSelectors');
    cfnTrail.advancedEventSelectors = [
      {
        name: 'All management events (includes KMS Encrypt, Decrypt, Sign)',
        fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }],
      },
      {
        name: 'MFA table data events',
        fieldSelectors: [
          { field: 'eventCategory', equalTo: ['Data'] },
          { field: 'resources.type', equalTo: ['AWS::DynamoDB::Table'] },
          { field: 'resources.ARN', equalTo: [props.table.tableArn] },
        ],
      },
    ];
  }
}
