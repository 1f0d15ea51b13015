import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SesMailer } from '../../functions/adapters/aws/ses-mailer.js';
import { MailNotSentError } from '../../functions/ports/mailer.js';

const ses = mockClient(SESv2Client);
afterEach(() => ses.reset());

const MAIL = { to: 'alice@example.com', subject: 'Acme: your code is 12345678', text: 'Your code is 12345678\n', html: '<p>Your code is <strong>12345678</strong></p>' };

describe('SesMailer', () => {
  it('sends exactly one SendEmail from the configured identity, through the configuration set, text and HTML in UTF-8', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    await new SesMailer(new SESv2Client({ region: 'eu-west-1' }), 'no-reply@example.com', 'mfa-mail').send(MAIL);
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      FromEmailAddress: 'no-reply@example.com',
      Destination: { ToAddresses: ['alice@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Acme: your code is 12345678', Charset: 'UTF-8' },
          Body: { Text: { Data: 'Your code is 12345678\n', Charset: 'UTF-8' }, Html: { Data: '<p>Your code is <strong>12345678</strong></p>', Charset: 'UTF-8' } },
        },
      },
      ConfigurationSetName: 'mfa-mail',
    });
  });

  it('turns any SES failure into MailNotSentError that names only the error, never the mail', async () => {
    ses.on(SendEmailCommand).rejects(Object.assign(new Error('Email address is not verified: alice@example.com 12345678'), { name: 'MessageRejected' }));
    const error = await new SesMailer(new SESv2Client({ region: 'eu-west-1' }), 'no-reply@example.com', undefined).send(MAIL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailNotSentError);
    expect((error as MailNotSentError).reason).toBe('MessageRejected');
    expect((error as Error).message).not.toContain('12345678');
  });
});
