/**
 * Control and format characters (Unicode categories Cc and Cf: line breaks, U+202E right-to-left
 * override, zero-width joiners): refused in what an operator sends, so that an audit line reads
 * as what was stored. One rule for the schemas (admin-schemas.ts) and for the words of a refused
 * path (admin-request.ts), which inside a bundle has only the precompiled check's yes or no.
 */
export const WITHOUT_CONTROL_OR_FORMAT = /^[^\p{Cc}\p{Cf}]*$/u;
