import type { RegistrationResponseJSON } from '../methods/webauthn/webauthn.js';
import { Administration, type AdminMfaStatus, type AdmittedOperator, type Operator } from './administration.js';
import { AttemptEngine } from './attempts.js';
import { AuthenticatorManagement, type AuthenticatorsLeft } from './authenticator-management.js';
import type { Actor, MfaServiceDeps, SecondFactor } from './context.js';
import { EmailCodes, type EmailCodeSent, type EmailEnabled } from './email-codes.js';
import { RememberedDevices, type DeviceChallengeStarted, type DeviceView, type RememberDeviceRequest } from './remembered-devices.js';
import { TotpEnrollment, type EnrollmentConfirmed, type EnrollmentStarted } from './totp-enrollment.js';
import { Verification, type Verified } from './verification.js';
import { statusOf, type AuthenticatorView, type MfaStatus } from './views.js';
import { WebAuthnRegistration, type ChallengeStarted, type KeyRegistered, type RegistrationStarted } from './webauthn-registration.js';

export type { Actor, MfaServiceDeps, MfaSettings, SecondFactor } from './context.js';
export type { MfaStatus } from './views.js';
export type { DeviceView, RememberDeviceRequest } from './remembered-devices.js';
export type { AdminMfaStatus, AdmittedOperator, Operator } from './administration.js';

/**
 * The MFA use cases, one method per route. Each delegates to the use-case module of its
 * concern; every proof of a factor goes through the one attempt engine (service/attempts.ts).
 */
export class MfaService {
  private readonly totp: TotpEnrollment;
  private readonly webauthn: WebAuthnRegistration;
  private readonly verification: Verification;
  private readonly management: AuthenticatorManagement;
  private readonly administration: Administration;
  private readonly email: EmailCodes;
  private readonly devices: RememberedDevices;

  constructor(private readonly deps: MfaServiceDeps) {
    const attempts = new AttemptEngine(deps);
    this.totp = new TotpEnrollment(deps, attempts);
    this.webauthn = new WebAuthnRegistration(deps, attempts);
    this.verification = new Verification(deps, attempts);
    this.management = new AuthenticatorManagement(deps, attempts);
    this.administration = new Administration(deps);
    this.email = new EmailCodes(deps, attempts);
    this.devices = new RememberedDevices(deps);
  }

  async status(actor: Actor): Promise<MfaStatus> {
    return statusOf(await this.deps.store.get(actor.userId), this.deps.clock.now());
  }

  startTotpEnrollment(actor: Actor, factor?: SecondFactor): Promise<EnrollmentStarted> {
    return this.totp.start(actor, factor);
  }

  confirmTotpEnrollment(actor: Actor, code: string, name?: string): Promise<EnrollmentConfirmed> {
    return this.totp.confirm(actor, code, name);
  }

  startWebAuthnRegistration(actor: Actor, factor?: SecondFactor): Promise<RegistrationStarted> {
    return this.webauthn.start(actor, factor);
  }

  confirmWebAuthnRegistration(actor: Actor, credential: RegistrationResponseJSON, name?: string): Promise<KeyRegistered> {
    return this.webauthn.confirm(actor, credential, name);
  }

  startWebAuthnChallenge(actor: Actor): Promise<ChallengeStarted> {
    return this.webauthn.challenge(actor);
  }

  startEmailEnrollment(actor: Actor, factor?: SecondFactor): Promise<EmailCodeSent> {
    return this.email.startEnrollment(actor, factor);
  }

  confirmEmailEnrollment(actor: Actor, code: string, name?: string): Promise<EmailEnabled> {
    return this.email.confirmEnrollment(actor, code, name);
  }

  startEmailChallenge(actor: Actor): Promise<EmailCodeSent> {
    return this.email.challenge(actor);
  }

  verify(actor: Actor, factor: SecondFactor, nonce?: string, rememberDevice?: RememberDeviceRequest): Promise<Verified> {
    return this.verification.verify(actor, factor, nonce, rememberDevice);
  }

  startDeviceChallenge(actor: Actor, deviceId: string): Promise<DeviceChallengeStarted> {
    return this.devices.challenge(actor, deviceId);
  }

  forgetDevice(actor: Actor, deviceId: string): Promise<{ devices: DeviceView[] }> {
    return this.devices.forget(actor, deviceId);
  }

  forgetAllDevices(actor: Actor): Promise<{ devices: DeviceView[] }> {
    return this.devices.forgetAll(actor);
  }

  regenerateRecoveryCodes(actor: Actor, factor: SecondFactor): Promise<{ recoveryCodes: string[] }> {
    return this.management.regenerateRecoveryCodes(actor, factor);
  }

  disableTotp(actor: Actor, factor: SecondFactor): Promise<{ mfaEnabled: boolean }> {
    return this.management.disableTotp(actor, factor);
  }

  renameAuthenticator(actor: Actor, authenticatorId: string, name: string): Promise<AuthenticatorView> {
    return this.management.rename(actor, authenticatorId, name);
  }

  removeAuthenticator(actor: Actor, authenticatorId: string, factor: SecondFactor): Promise<AuthenticatorsLeft> {
    return this.management.remove(actor, authenticatorId, factor);
  }

  admitOperator(operator: Operator, userId: string | undefined): AdmittedOperator {
    return this.administration.admit(operator, userId);
  }

  adminStatus(operator: AdmittedOperator, userId: string): Promise<AdminMfaStatus> {
    return this.administration.status(operator, userId);
  }

  adminReset(operator: AdmittedOperator, userId: string, reason: string): Promise<AdminMfaStatus> {
    return this.administration.reset(operator, userId, reason);
  }

  adminUnlock(operator: AdmittedOperator, userId: string, reason: string): Promise<AdminMfaStatus> {
    return this.administration.unlock(operator, userId, reason);
  }
}
