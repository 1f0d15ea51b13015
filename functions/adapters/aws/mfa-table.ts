/**
 * The MFA table's shape, shared by the DynamoDB adapter, the local table bootstrap and the
 * CDK stack. One item per user holds everything, so every change is a single-item
 * conditional write: atomic by construction.
 */
export const MFA_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL removes items of users with only an expired enrollment. */
  timeToLiveAttribute: 'ttl',
} as const;

export const userKey = (userId: string) => ({
  [MFA_TABLE.partitionKey]: { S: `USER#${userId}` },
  [MFA_TABLE.sortKey]: { S: 'MFA' },
});
