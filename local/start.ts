/**
 * `npm start`: the whole product on http://localhost:3000 (PORT overrides), all state under
 * MFA_DATA_DIR (default .data/). Ctrl-C stops everything it started.
 */
// Metrics are CloudWatch EMF lines: noise on a laptop. Set before the handlers load.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// Lambda runs Node 22+; on a Node 20 laptop the SDK's support notice is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { startLocalStack } = await import('./local-stack.js');

const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.MFA_DATA_DIR ?? '.data';

const stack = await startLocalStack({ dataDir, port, changeEventLog: true, mail: { maildev: {} } });
console.log(`serverless-mfa is ready at ${stack.url}  (data in ${dataDir}, DynamoDB Local at ${stack.dynamoDbEndpoint}, change events in ${stack.eventsPath})`);
console.log(`Mail inbox (MailDev): ${stack.mailInboxUrl}  (email codes and security notices land here)`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping...');
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
