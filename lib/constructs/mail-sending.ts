import { Arn, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { ConfigurationSet, ConfigurationSetTlsPolicy, SuppressionReasons } from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { serviceEnvironment } from '../../functions/settings-schema.js';
import type { MfaFunction } from './mfa-function.js';

export interface MailSendingProps {
  /** The verified SES identity's address every mail comes from. */
  from: string;
  /** The identity `from` is verified as: its domain (the default) or the address itself. */
  identity?: string | undefined;
  /** An existing configuration set; unset, one is created. */
  configurationSetName?: string | undefined;
}

/**
 * Sending mail with Amazon SES: the configuration set every mail goes through (reputation
 * metrics, TLS required, bounces and complaints suppressed), and the one grant functions get:
 * `ses:SendEmail` on the identity and the configuration set, from `from` only. The identity
 * itself is verified by the operator (docs/deploying.md: DNS records, leaving the sandbox).
 */
export class MailSending extends Construct {
  readonly from: string;
  readonly identity: string;
  readonly configurationSetName: string;
  readonly configurationSet: ConfigurationSet | undefined;

  constructor(scope: Construct, id: string, props: MailSendingProps) {
    super(scope, id);
    this.from = props.from;
    this.identity = props.identity ?? props.from.slice(props.from.lastIndexOf('@') + 1);
    if (props.configurationSetName) {
      this.configurationSetName = props.configurationSetName;
    } else {
      this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
        reputationMetrics: true,
        sendingEnabled: true,
        tlsPolicy: ConfigurationSetTlsPolicy.REQUIRE,
        suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      });
      this.configurationSetName = this.configurationSet.configurationSetName;
    }
  }

  /** Lets a function send from `from` (and nothing else), and names the address and configuration set in its configuration. */
  grantSend(fn: MfaFunction): void {
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          Arn.format({ service: 'ses', resource: 'identity', resourceName: this.identity }, stack),
          Arn.format({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSetName }, stack),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': this.from } },
      }),
    );
    for (const [name, value] of Object.entries(serviceEnvironment({ emailFrom: this.from, emailConfigurationSet: this.configurationSetName }))) {
      fn.addEnvironment(name, value);
    }
  }
}
