import type { MfaStatus, RememberedDevice } from '../../../client/index.js';
import { reportError, type App } from '../app.js';
import { button, dateAndTime, h, uniqueId } from '../dom.js';
import { dropBrowserKey, rememberedBrowserId } from '../remembered-browser.js';

/**
 * The profile's "Remembered browsers": each browser that signs in without a second factor (name,
 * app, added, last used, expires), with "Forget" on each and "Forget all". Forgetting needs no
 * proof: it only takes access away. Forgetting this very browser also drops its key here.
 */
export function rememberedBrowsersSection(app: App, status: MfaStatus): HTMLElement | string {
  if (status.devices.length === 0) return '';
  const headingId = uniqueId('remembered-browsers');
  const section = h('section', { className: 'remembered-browsers', attrs: { 'aria-labelledby': headingId } });
  const draw = (devices: RememberedDevice[]) => {
    if (devices.length === 0) {
      section.replaceChildren(h('h2', { id: headingId }, 'Remembered browsers'), h('p', { className: 'muted' }, 'No browser is remembered: every sign-in asks for your second factor.'));
      return;
    }
    section.replaceChildren(
      h('h2', { id: headingId }, 'Remembered browsers'),
      h('p', { className: 'muted' }, 'These browsers sign in without asking for your second factor until they expire.'),
      h(
        'ul',
        { className: 'authenticator-list', attrs: { 'aria-labelledby': headingId } },
        ...devices.map((device) => {
          const nameId = uniqueId('device');
          const forget = button('Forget', () => void act(() => forgetOne(device.id)), { variant: 'link' });
          forget.setAttribute('aria-describedby', nameId);
          return h(
            'li',
            { className: 'authenticator' },
            h(
              'div',
              { className: 'authenticator-text' },
              h('p', { className: 'authenticator-kind' }, device.app),
              h('h3', { id: nameId, className: 'authenticator-name' }, device.name),
              h(
                'p',
                { className: 'muted' },
                `Added ${dateAndTime(device.createdAt)} · ${device.lastUsedAt ? `last used ${dateAndTime(device.lastUsedAt)}` : 'not used yet'} · expires ${dateAndTime(device.expiresAt)}`,
              ),
            ),
            h('div', { className: 'authenticator-actions' }, forget),
          );
        }),
      ),
      h('div', { className: 'actions' }, button('Forget all', () => void act(forgetAll))),
    );
  };

  const forgetOne = async (id: string) => {
    const here = await rememberedBrowserId(app);
    const { devices } = await app.client.forgetDevice(id);
    if (here === id) await dropBrowserKey(app);
    return devices;
  };
  const forgetAll = async () => {
    const { devices } = await app.client.forgetAllDevices();
    await dropBrowserKey(app);
    return devices;
  };
  const act = async (task: () => Promise<RememberedDevice[]>) => {
    try {
      draw(await task());
      app.shell.showStatus('Forgotten: the next sign-in there asks for your second factor.');
    } catch (error) {
      reportError(app, error);
    }
  };

  draw(status.devices);
  return section;
}
