import type { App } from './app.js';

/** Copies `text` and says so; where the Clipboard API is unavailable, says how to copy by hand. */
export async function copyText(app: App, text: string, copiedMessage: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    app.shell.showStatus(copiedMessage);
  } catch {
    app.shell.showError('Copying is not available in this browser. Select the text and copy it by hand.');
  }
}
