import { mkdir } from 'node:fs/promises';
import { MailDev } from 'maildev';
import { freePort } from './dynamodb-local.js';

export const DEFAULT_MAILDEV_WEB_PORT = 1080;
export const DEFAULT_MAILDEV_SMTP_PORT = 1025;

export interface LocalMailDev {
  /** Where the service sends (MFA_SMTP_URL). */
  smtpUrl: string;
  /** The web inbox, and its REST API under /api (tests read mails there). */
  webUrl: string;
  stop(): Promise<void>;
}

/**
 * MailDev (an SMTP server with a web inbox) on loopback only: the local stand-in for SES.
 * Ports from the arguments, else MAILDEV_WEB_PORT / MAILDEV_SMTP_PORT, else 1080 / 1025; `0`
 * picks free ones (tests). Mails are kept under `mailDirectory`.
 */
export async function startMailDev(options: { mailDirectory: string; webPort?: number; smtpPort?: number }): Promise<LocalMailDev> {
  const port = async (given: number | undefined, variable: string, fallback: number) => {
    const chosen = given ?? (process.env[variable] ? Number(process.env[variable]) : fallback);
    if (!Number.isInteger(chosen) || chosen < 0 || chosen > 65535) throw new Error(`${variable} must be a port number.`);
    return chosen === 0 ? freePort() : chosen;
  };
  const web = await port(options.webPort, 'MAILDEV_WEB_PORT', DEFAULT_MAILDEV_WEB_PORT);
  const smtp = await port(options.smtpPort, 'MAILDEV_SMTP_PORT', DEFAULT_MAILDEV_SMTP_PORT);
  await mkdir(options.mailDirectory, { recursive: true });
  const maildev = new MailDev({ smtp, web, ip: '127.0.0.1', webIp: '127.0.0.1', mailDirectory: options.mailDirectory, silent: true, maxEmails: 1000 });
  await maildev.start();
  return {
    smtpUrl: `smtp://127.0.0.1:${smtp}`,
    webUrl: `http://localhost:${web}`,
    stop: () => maildev.stop(),
  };
}
