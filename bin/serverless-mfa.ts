import { createApp } from '../lib/app.js';
import { buildAssets } from '../scripts/package/assets.js';

// `cdk synth` / `cdk deploy` run this file (cdk.json "app"); context comes from cdk.json and -c.
// The functions and the web client are built from the current sources first, into the assets
// folder the construct deploys from (the same the published package carries).
await buildAssets();
createApp();
