import type { EmailCodeSent, SecondFactor } from '../../client/index.js';
import { onSubmit, refuseInField, reportError, type App } from './app.js';
import { button, h, textField, timeOfDay } from './dom.js';
import { describeError, isSessionExpired } from './messages.js';

const EMAIL_CODE_PATTERN = /^[0-9]{8}$/;
/** "Send again" waits this long after each mail, so that a slow inbox is not answered with a flood. */
export const SEND_AGAIN_AFTER_MS = 30_000;

/**
 * A code by email, as one mode of the proof form (or the email set-up): the mail is sent when
 * the mode opens, the user types the 8 digits, and "Send again" comes back 30 s after each mail.
 * `send` asks the API for a mail; `submit` sends the code the user typed.
 */
export function emailCodeMode(
  app: App,
  options: {
    send: () => Promise<EmailCodeSent>;
    submit: (proof: Extract<SecondFactor, { emailCode: string }>) => Promise<void>;
    /** Already sent (by the step that opened this mode): no mail at opening. */
    sent?: EmailCodeSent | undefined;
    submitLabel?: string;
    intro?: HTMLElement | null;
    actions?: Array<HTMLElement | null>;
  },
): { element: HTMLElement; field: HTMLElement } {
  const field = textField({
    label: 'Email code',
    hint: 'The 8-digit code in the mail we just sent you. It works once, for 10 minutes.',
    autocomplete: 'one-time-code',
    inputMode: 'numeric',
    maxLength: 11,
    className: 'input-code',
  });
  const sentTo = h('p', { className: 'lead', attrs: { 'aria-live': 'polite' } }, 'Sending you a code…');
  const again: HTMLButtonElement = button('Send again', () => void sendCode(), { variant: 'link' });
  let timer: ReturnType<typeof setTimeout> | undefined;

  const waitBeforeAgain = () => {
    again.disabled = true;
    clearTimeout(timer);
    timer = setTimeout(() => {
      again.disabled = false;
    }, SEND_AGAIN_AFTER_MS);
  };
  const shown = (sent: EmailCodeSent) => {
    sentTo.textContent = `We sent a code to ${sent.sentTo}. It works until ${timeOfDay(new Date(sent.expiresAt))}.`;
    waitBeforeAgain();
  };
  const sendCode = async () => {
    waitBeforeAgain();
    try {
      shown(await options.send());
      app.shell.showStatus('A new code is on its way.');
    } catch (error) {
      if (isSessionExpired(error)) return reportError(app, error);
      sentTo.textContent = 'No code was sent.';
      app.shell.showError(describeError(error, 'email-code'));
      again.disabled = false;
    }
  };

  const form = h('form', { className: 'form', noValidate: true }, options.intro ?? null, sentTo, field.wrapper);
  form.append(
    h('div', { className: 'actions' }, h('button', { type: 'submit', className: 'button button-primary' }, options.submitLabel ?? 'Verify'), again, ...(options.actions ?? [])),
  );
  const refuse = (message: string) => refuseInField(app, field, message, { select: true });
  onSubmit(form, async () => {
    const value = field.input.value.replace(/[\s-]/g, '');
    if (!EMAIL_CODE_PATTERN.test(value)) return refuse('Enter the 8 digits of the code we emailed you.');
    try {
      await options.submit({ emailCode: value });
    } catch (error) {
      if (isSessionExpired(error)) return reportError(app, error);
      refuse(describeError(error, 'email-code'));
    }
  });

  if (options.sent) shown(options.sent);
  else void sendCode();
  return { element: form, field: field.input };
}
