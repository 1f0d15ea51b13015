import { randomBytes } from 'node:crypto';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { answeredInProcess, jsonBodyOf, jsonResponse, type WireRequest } from './in-process-http.js';

/** A mail as SendEmail received it. */
export interface SentMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  configurationSet: string | undefined;
}

/**
 * SES v2 answered inside this process, at the HTTP layer of the SDK (as InProcessKms answers
 * KMS): the real SESv2Client serialises and signs each SendEmail, and the mail is kept here for
 * the caller to read. Nothing leaves the machine.
 */
export class InProcessSes {
  readonly sent: SentMail[] = [];

  client(config: SESv2ClientConfig = {}): SESv2Client {
    const { requestHandler, ...answered } = answeredInProcess((request) => this.handle(request));
    return new SESv2Client({ ...answered, ...config, requestHandler: requestHandler as unknown as SESv2ClientConfig['requestHandler'] });
  }

  private async handle(request: WireRequest) {
    if (request.method !== 'POST' || request.path !== '/v2/email/outbound-emails') throw new Error(`The in-process SES does not answer ${request.method} ${request.path}.`);
    const input = jsonBodyOf(request) as {
      FromEmailAddress: string;
      Destination: { ToAddresses: string[] };
      Content: { Simple: { Subject: { Data: string }; Body: { Text: { Data: string } } } };
      ConfigurationSetName?: string;
    };
    this.sent.push({
      from: input.FromEmailAddress,
      to: input.Destination.ToAddresses,
      subject: input.Content.Simple.Subject.Data,
      text: input.Content.Simple.Body.Text.Data,
      configurationSet: input.ConfigurationSetName,
    });
    return jsonResponse(200, 'application/json', { MessageId: randomBytes(16).toString('hex') });
  }

  /** The 8-digit code of the newest mail. */
  latestCode(): string {
    const code = /\b(\d{8})\b/.exec(this.sent.at(-1)?.text ?? '')?.[1];
    if (!code) throw new Error('no code in the newest mail');
    return code;
  }
}
