import type { SecondFactor } from '../../client/index.js';
import { onSubmit, reportError, type App } from './app.js';
import { button, h, textField } from './dom.js';
import { describeError, isSessionExpired, type CodeContext } from './messages.js';

const CODE_PATTERN = /^[0-9]{6}$/;

export interface CodeForm {
  element: HTMLElement;
  /** The field that should get focus when the screen opens. */
  field: HTMLInputElement;
}

/**
 * The "Authentication code" form used wherever a current code is needed (second sign-in step,
 * set-up, disable, regenerate), optionally switchable to a "Recovery code" field. `submit` makes
 * the API call; a refusal is announced, the field marked invalid and focused for another try.
 */
export function codeForm(
  app: App,
  options: {
    allowRecoveryCode: boolean;
    context?: 'code' | 'enrollment';
    /** A sentence above the field, per mode (e.g. what to open, where the codes were saved). */
    intro?: { code: string; recoveryCode: string };
    submit: (factor: SecondFactor) => Promise<void>;
    actions?: HTMLElement[];
  },
): CodeForm {
  const container = h('div', { className: 'code-form' });
  let current: CodeForm;

  const render = (mode: 'code' | 'recovery-code'): CodeForm => {
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
    const intro = options.intro ? h('p', { className: 'lead' }, isCode ? options.intro.code : options.intro.recoveryCode) : null;
    const form = h('form', { className: 'form', noValidate: true }, intro, field.wrapper);
    form.append(
      h(
        'div',
        { className: 'actions' },
        h('button', { type: 'submit', className: 'button button-primary' }, 'Verify'),
        options.allowRecoveryCode
          ? button(isCode ? 'Use a recovery code' : 'Use your authenticator app', () => switchTo(isCode ? 'recovery-code' : 'code'), { variant: 'link' })
          : null,
        ...(options.actions ?? []),
      ),
    );
    const context: CodeContext = isCode ? (options.context ?? 'code') : 'recovery-code';

    const refuse = (message: string) => {
      field.setError(message);
      app.shell.showError(message, { shownInline: true });
      field.input.focus();
      field.input.select();
    };

    onSubmit(form, async () => {
      const value = field.input.value.trim();
      if (isCode && !CODE_PATTERN.test(value.replace(/\s/g, ''))) return refuse('Enter the 6 digits your authenticator app shows.');
      if (!isCode && value === '') return refuse('Enter one of your recovery codes.');
      try {
        await options.submit(isCode ? { code: value.replace(/\s/g, '') } : { recoveryCode: value });
      } catch (error) {
        if (isSessionExpired(error)) return reportError(app, error);
        refuse(describeError(error, context));
      }
    });
    return { element: form, field: field.input };
  };

  const switchTo = (mode: 'code' | 'recovery-code') => {
    app.shell.clearMessages();
    current = render(mode);
    container.replaceChildren(current.element);
    current.field.focus();
  };

  current = render('code');
  container.append(current.element);
  return { element: container, field: current.field };
}
