import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';

interface WireRequest {
  method: string;
  path: string;
  body?: unknown;
}

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
    return new SESv2Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'ASIABENCHMARKEXAMPLE', secretAccessKey: 'benchmark', sessionToken: 'benchmark' },
      ...config,
      requestHandler: {
        handle: (request: WireRequest) => this.handle(request),
        updateHttpClientConfig: () => {},
        httpHandlerConfigs: () => ({}),
      } as unknown as SESv2ClientConfig['requestHandler'],
    });
  }

  private async handle(request: WireRequest) {
    if (request.method !== 'POST' || request.path !== '/v2/email/outbound-emails') throw new Error(`The in-process SES does not answer ${request.method} ${request.path}.`);
    const body = request.body instanceof Uint8Array ? Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8') : String(request.body ?? '{}');
    const input = JSON.parse(body) as {
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
    const payload = Buffer.from(JSON.stringify({ MessageId: randomBytes(16).toString('hex') }));
    return {
      response: {
        statusCode: 200,
        reason: 'OK',
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length), 'x-amzn-requestid': randomBytes(8).toString('hex') },
        body: Readable.from([payload]),
      },
    };
  }

  /** The 8-digit code of the newest mail. */
  latestCode(): string {
    const code = /\b(\d{8})\b/.exec(this.sent.at(-1)?.text ?? '')?.[1];
    if (!code) throw new Error('no code in the newest mail');
    return code;
  }
}
