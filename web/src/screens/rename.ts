import { MfaProblemError } from '../../../client/index.js';
import { onSubmit, refuseInField, reportError, type App } from '../app.js';
import { button, h, textField } from '../dom.js';
import { describeError, isSessionExpired } from '../messages.js';
import type { Routes } from '../router.js';

const MAX_NAME_LENGTH = 64;

/** A new name for an app or key, so the list tells them apart. */
export function showRename(app: App, { authenticator }: Routes['rename']): void {
  const name = textField({ label: 'Name', hint: `1 to ${MAX_NAME_LENGTH} characters.`, maxLength: MAX_NAME_LENGTH });
  name.input.value = authenticator.name;
  const form = h(
    'form',
    { className: 'form', noValidate: true },
    name.wrapper,
    h(
      'div',
      { className: 'actions' },
      h('button', { type: 'submit', className: 'button button-primary' }, 'Save'),
      button('Cancel', () => app.router.go('profile'), { variant: 'link' }),
    ),
  );

  const refuse = (message: string) => refuseInField(app, name, message);

  onSubmit(form, async () => {
    const value = name.input.value.trim();
    if (value === '') return refuse('Enter a name.');
    try {
      const renamed = await app.client.renameAuthenticator(authenticator.id, { name: value });
      app.router.go('profile', { note: `Renamed to "${renamed.name}".` });
    } catch (error) {
      if (isSessionExpired(error)) return reportError(app, error);
      if (error instanceof MfaProblemError && error.code === 'authenticator_not_found') return app.router.go('profile', { note: describeError(error) });
      refuse(describeError(error));
    }
  });

  app.shell.show({
    title: authenticator.kind === 'totp' ? 'Rename authenticator app' : 'Rename security key',
    body: [h('p', { className: 'lead' }, `Choose a new name for "${authenticator.name}".`), form],
    focus: name.input,
  });
}
