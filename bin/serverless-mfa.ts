import { createApp } from '../lib/app.js';

// `cdk synth` / `cdk deploy` run this file (cdk.json "app"); context comes from cdk.json and -c.
createApp();
