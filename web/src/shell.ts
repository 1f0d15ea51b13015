import { button, h, type Child } from './dom.js';

export interface Screen {
  /** The page's one h1 and the document title. */
  title: string;
  body: Child[];
  /** Where focus goes once the screen is shown: its first field, or else the heading. */
  focus?: HTMLElement;
}

/**
 * The page frame from index.html: the heading, two live regions (alerts for errors, status for
 * everything else) that stay in the document so screen readers announce every change, and the
 * screen area that each screen replaces.
 */
export class Shell {
  private readonly title: HTMLElement;
  private readonly alert: HTMLElement;
  private readonly status: HTMLElement;
  private readonly screen: HTMLElement;
  private readonly account: HTMLElement;
  private pendingAnnouncement: number | undefined;

  constructor(private readonly doc: Document) {
    this.title = this.element('screen-title');
    this.alert = this.element('alert');
    this.status = this.element('status');
    this.screen = this.element('screen');
    this.account = this.element('account');
  }

  show(screen: Screen): void {
    this.clearMessages();
    this.title.textContent = screen.title;
    this.doc.title = `${screen.title} · serverless-mfa`;
    this.screen.replaceChildren(...screen.body.filter((child): child is Node | string => Boolean(child)));
    (screen.focus ?? this.title).focus();
  }

  /** `shownInline`: the field shows the words next to it, so the alert is only heard, not seen twice. */
  showError(message: string, options: { shownInline?: boolean } = {}): void {
    this.alert.classList.toggle('visually-hidden', options.shownInline === true);
    this.announce(this.alert, message);
    this.status.textContent = '';
  }

  showStatus(message: string): void {
    this.announce(this.status, message);
    this.alert.textContent = '';
  }

  clearMessages(): void {
    if (this.pendingAnnouncement !== undefined) clearTimeout(this.pendingAnnouncement);
    this.alert.textContent = '';
    this.status.textContent = '';
  }

  /**
   * Shows who is signed in, with a way out, in the page header. `signing-in`: the first factor
   * is done but the second step is not, so the user is not signed in yet.
   */
  setAccount(username: string | undefined, onSignOut: () => void, stage: 'signing-in' | 'signed-in' = 'signed-in'): void {
    const who = `${stage === 'signed-in' ? 'Signed in as' : 'Signing in as'} ${username}`;
    this.account.replaceChildren(...(username ? [h('span', { className: 'account-name' }, who), button('Sign out', onSignOut, { variant: 'link' })] : []));
  }

  /**
   * Empties the region first and fills it a moment later, so the same message said twice
   * (two wrong codes in a row) is announced twice.
   */
  private announce(region: HTMLElement, message: string): void {
    if (this.pendingAnnouncement !== undefined) clearTimeout(this.pendingAnnouncement);
    region.textContent = '';
    this.pendingAnnouncement = window.setTimeout(() => {
      region.textContent = message;
      this.pendingAnnouncement = undefined;
    }, 50);
  }

  private element(id: string): HTMLElement {
    const element = this.doc.getElementById(id);
    if (!element) throw new Error(`index.html has no #${id}.`);
    return element;
  }
}
