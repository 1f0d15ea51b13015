import { MfaProblemError, type MfaStatus, type SecondFactor } from '../../client/index.js';
import { onSubmit, refuseInField, reportError, type App } from './app.js';
import { button, h, textField } from './dom.js';
import { describeError, isSessionExpired, type ProofContext } from './messages.js';
import { emailCodeMode } from './email-code.js';
import { preferredProofKind, rememberProofKind, whileCodesAreLocked, type ProofKind as Mode, type ProofMethods } from './proof-choice.js';
import { getKeyAssertion, PreparedOptions, securityKeysSupported } from './security-key.js';

export type { ProofMethods } from './proof-choice.js';

const CODE_PATTERN = /^[0-9]{6}$/;

/** What the user has set up, as the MFA status says (keys only where this browser can use them). */
export function proofMethodsOf(status: MfaStatus): ProofMethods {
  return {
    code: status.methods.totp.enabled,
    recoveryCode: status.mfaEnabled,
    securityKey: status.methods.webauthn.enabled && securityKeysSupported(),
    email: status.methods.email.enabled,
  };
}

export interface ProofForm {
  element: HTMLElement;
  /** What should get focus when the screen opens: the field, or the key's button. */
  field: HTMLElement;
}

/**
 * The one form that asks for a proof wherever one is needed (second sign-in step, set-up, the
 * step-ups): "Authentication code", switchable to "Recovery code", and "Use a security key"
 * when the user has one. The other kinds are offered above the field, to be chosen first, and
 * the choice holds for the rest of the visit (proof-choice.ts). `submit` makes the API call; a refusal is announced, the field marked
 * invalid and focused for another try. The key's challenge is fetched as soon as the form is
 * drawn, so the click calls the browser at once (inside the gesture, as Safari needs).
 */
export function proofForm(
  app: App,
  options: {
    methods: ProofMethods;
    context?: 'code' | 'enrollment';
    /** A sentence above the field, per mode (e.g. what to open, where the codes were saved). */
    intro?: Partial<Record<Mode, string>>;
    submit: (proof: SecondFactor) => Promise<void>;
    actions?: HTMLElement[];
  },
): ProofForm {
  const { methods } = options;
  const container = h('div', { className: 'code-form' });
  const challenge = methods.securityKey ? new PreparedOptions(() => app.client.startWebAuthnChallenge()) : undefined;
  challenge?.prepare();
  let keyRunning = false;

  const useKey = async (trigger: HTMLButtonElement) => {
    if (!challenge || keyRunning) return;
    keyRunning = true;
    container.setAttribute('aria-busy', 'true');
    app.shell.showStatus("Use your security key now: follow your browser's prompt.");
    try {
      // With the challenge already here, the browser is called before anything is awaited.
      const ready = challenge.takeReady();
      const assertion = await getKeyAssertion((ready ?? (await challenge.take())).value.options);
      await options.submit({ webauthn: assertion });
    } catch (error) {
      if (isSessionExpired(error)) return reportError(app, error);
      app.shell.showError(describeError(error, 'security-key'));
      trigger.focus();
      challenge.prepare();
    } finally {
      keyRunning = false;
      container.removeAttribute('aria-busy');
    }
  };

  const keyButton = (variant: 'primary' | 'link') => {
    const trigger: HTMLButtonElement = button(
      'Use a security key',
      () => {
        if (variant === 'link') rememberProofKind('security-key');
        void useKey(trigger);
      },
      { variant },
    );
    return trigger;
  };

  /** The other kinds of proof, offered before the field so that the kind is chosen first. */
  const choices = (mode: Mode) => {
    const others = [
      methods.code && mode !== 'code' ? button('Use your authenticator app', () => switchTo('code'), { variant: 'link' }) : null,
      methods.recoveryCode && mode !== 'recovery-code' ? button('Use a recovery code', () => switchTo('recovery-code'), { variant: 'link' }) : null,
      methods.securityKey && mode !== 'security-key' ? keyButton('link') : null,
      methods.email && mode !== 'email' ? button('Email me a code', () => switchTo('email'), { variant: 'link' }) : null,
    ].filter((choice): choice is HTMLButtonElement => choice !== null);
    return others.length === 0 ? null : h('div', { className: 'proof-choice', attrs: { role: 'group', 'aria-label': 'Other ways to confirm' } }, ...others);
  };

  const render = (mode: Mode): ProofForm => {
    const intro = options.intro?.[mode] ? h('p', { className: 'lead' }, options.intro[mode]) : null;
    if (mode === 'email') {
      return emailCodeMode(app, {
        send: () => app.client.startEmailChallenge(),
        submit: options.submit,
        intro: options.intro?.email ? h('p', { className: 'lead' }, options.intro.email) : null,
        actions: [choices(mode), ...(options.actions ?? [])],
      });
    }
    if (mode === 'security-key') {
      const primary = keyButton('primary');
      const element = h('div', { className: 'form' }, intro, choices(mode), h('div', { className: 'actions' }, primary, ...(options.actions ?? [])));
      return { element, field: primary };
    }
    const isCode = mode === 'code';
    const field = isCode
      ? textField({
          label: 'Authentication code',
          hint: 'The 6-digit code your authenticator app shows now.',
          autocomplete: 'one-time-code',
          inputMode: 'numeric',
          maxLength: 9,
          className: 'input-code',
        })
      : textField({
          label: 'Recovery code',
          hint: 'One of the recovery codes you saved. Each code works once.',
          autocapitalize: 'characters',
          maxLength: 64,
          className: 'input-code input-recovery-code',
        });
    const form = h('form', { className: 'form', noValidate: true }, intro, choices(mode), field.wrapper);
    form.append(h('div', { className: 'actions' }, h('button', { type: 'submit', className: 'button button-primary' }, 'Verify'), ...(options.actions ?? [])));
    const context: ProofContext = isCode ? (options.context ?? 'code') : 'recovery-code';

    const refuse = (message: string) => refuseInField(app, field, message, { select: true });

    onSubmit(form, async () => {
      const value = field.input.value.trim();
      if (isCode && !CODE_PATTERN.test(value.replace(/\s/g, ''))) return refuse('Enter the 6 digits your authenticator app shows.');
      if (!isCode && value === '') return refuse('Enter one of your recovery codes.');
      try {
        await options.submit(isCode ? { code: value.replace(/\s/g, '') } : { recoveryCode: value });
      } catch (error) {
        if (isSessionExpired(error)) return reportError(app, error);
        const words = describeError(error, context);
        // A code lockout never refuses recovery codes or keys: say so where the user is stuck.
        const locked = isCode && error instanceof MfaProblemError && error.code === 'too_many_attempts';
        refuse(locked ? `${words} ${whileCodesAreLocked(methods)}`.trim() : words);
      }
    });
    return { element: form, field: field.input };
  };

  const switchTo = (mode: Mode) => {
    // Every mail is asked for by a click: a later form never opens on "email" by itself.
    if (mode !== 'email') rememberProofKind(mode);
    app.shell.clearMessages();
    const current = render(mode);
    container.replaceChildren(current.element);
    current.field.focus();
  };

  const first = render(preferredProofKind(methods));
  container.append(first.element);
  return { element: container, field: first.field };
}
