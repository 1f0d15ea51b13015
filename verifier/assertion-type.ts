/**
 * The `typ` header of every MFA assertion (RFC 8725 section 3.11): the service signs with it and
 * the verifier requires it, so that no other JWT can pass for an assertion. Dependency-free, so
 * that both can import it.
 */
export const MFA_ASSERTION_TYPE = 'mfa+jwt';
