/**
 * Domain errors. Each one names a rule the caller broke; the HTTP layer maps them
 * to problem codes in one table (functions/http/problems.ts).
 */
export abstract class DomainError extends Error {
  override readonly name: string = this.constructor.name;
}

/** The code was wrong, malformed for its kind, or already used. */
export class InvalidCodeError extends DomainError {
  constructor() {
    super('The code is not valid.');
  }
}

export class EnrollmentNotFoundError extends DomainError {
  constructor() {
    super('There is no pending TOTP enrollment, or it has expired.');
  }
}

export class TotpAlreadyEnabledError extends DomainError {
  constructor() {
    super('TOTP is already enabled for this user.');
  }
}

export class MfaNotEnabledError extends DomainError {
  constructor() {
    super('Two-factor authentication is not enabled for this user.');
  }
}

export class TooManyAttemptsError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many failed attempts; try again later.');
  }
}

/** Storage stayed contended beyond the retry budget; nothing was changed. */
export class ContentionError extends DomainError {
  constructor() {
    super('The request conflicted with concurrent requests; retry it.');
  }
}

/** Adding a factor while MFA is on needs a proof of a current one in the same request. */
export class StepUpRequiredError extends DomainError {
  constructor() {
    super('Adding a factor while MFA is on needs a proof of a current factor.');
  }
}

/** The security key's response was wrong: challenge, origin, signature, presence, counter or attestation. */
export class InvalidCredentialError extends DomainError {
  constructor() {
    super('The security key response is not valid.');
  }
}

export class RegistrationNotFoundError extends DomainError {
  constructor() {
    super('There is no pending security-key registration, or it has expired or been used.');
  }
}

export class CredentialAlreadyRegisteredError extends DomainError {
  constructor() {
    super('This security key is already registered.');
  }
}

export class TooManyAuthenticatorsError extends DomainError {
  constructor() {
    super('The user already has the maximum number of authenticators.');
  }
}

export class WebAuthnNotEnabledError extends DomainError {
  constructor() {
    super('The user has no security key.');
  }
}

export class AuthenticatorNotFoundError extends DomainError {
  constructor() {
    super('The user has no such authenticator.');
  }
}

export class UserNotFoundError extends DomainError {
  constructor() {
    super('There is no MFA state for this user.');
  }
}

/** Email codes need the first-factor token's `email` with `email_verified` true. */
export class EmailNotVerifiedError extends DomainError {
  constructor() {
    super('The first-factor token carries no verified email address.');
  }
}

export class EmailAlreadyEnabledError extends DomainError {
  constructor() {
    super('Email codes are already enabled for this user.');
  }
}

export class EmailNotEnabledError extends DomainError {
  constructor() {
    super('The user has no email method.');
  }
}

/** The send limit of mails with a code (per user, sliding window). */
export class TooManyEmailsError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many codes were sent by email; try again later.');
  }
}

/** A method this deployment does not offer (email codes with `emailCodes` off): its routes are not there. */
export class MethodNotOfferedError extends DomainError {
  constructor() {
    super('This deployment does not offer this method.');
  }
}

/** A remembered browser's signature only signs a user in: never a step-up for changing factors. */
export class DeviceProofNotAcceptedError extends DomainError {
  constructor() {
    super('A remembered browser cannot prove a factor for this request: send a code, a recovery code or a security key.');
  }
}

/** Remembering a browser is off, or its public key is not an ES256 public JWK on P-256. */
export class RememberDeviceRefusedError extends DomainError {}

/** The user has no such remembered browser (unknown, expired, forgotten, or another app's). */
export class DeviceNotFoundError extends DomainError {
  constructor() {
    super('There is no such remembered browser.');
  }
}

/** An operator route called by a principal the deployment does not name (`adminPrincipalArns`, the support role). */
export class OperatorNotAllowedError extends DomainError {
  constructor() {
    super('This principal may not call the operator routes.');
  }
}
