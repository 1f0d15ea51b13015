/**
 * Whether the caller of an operator route is a principal the deployment names. The caller is
 * the ARN API Gateway's IAM authorizer verified: an IAM user (`arn:aws:iam::ACCT:user/NAME`) or,
 * for anyone who assumed a role (the support role, an SSO permission set's role, a CI role), one
 * session of it (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`). A named user matches itself; a
 * named role (`arn:aws:iam::ACCT:role/[path/]ROLE`) matches every session of that role: a role's
 * name is unique in its account whatever its path, and a session ARN carries no path. A named
 * assumed-role ARN matches that one session. Partition and account must be equal; nothing is a
 * pattern.
 */
export function isNamedPrincipal(callerArn: string, namedArns: readonly string[]): boolean {
  if (namedArns.includes(callerArn)) return true;
  const session = ASSUMED_ROLE.exec(callerArn);
  if (!session) return false;
  const [, partition, account, roleName] = session;
  return namedArns.some((named) => {
    const role = ROLE.exec(named);
    return role !== null && role[1] === partition && role[2] === account && role[3] === roleName;
  });
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[^/]+$/;
/** A role's ARN; its path (`/`, or `/a/b/`) is everything between `role` and the last slash. */
const ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;
