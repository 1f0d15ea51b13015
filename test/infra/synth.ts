import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnElement, type App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll } from 'vitest';
import { createApp } from '../../lib/app.js';
import type { ServerlessMfaStack } from '../../lib/serverless-mfa-stack.js';
import type { ServerlessMfaSettings } from '../../lib/settings.js';

/** The context `cdk synth` runs with (cdk.json), so tests check the template the CLI produces. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

let processOutdir: string | undefined;

// Registered in every test file that imports this helper: its output directory goes with it.
afterAll(() => {
  if (processOutdir) rmSync(processOutdir, { recursive: true, force: true });
  processOutdir = undefined;
});

/** Context that makes NodejsFunction skip esbuild (the template still names a code asset). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export interface Synthesized {
  app: App;
  stack: ServerlessMfaStack;
  template: Template;
  json: Template['toJSON'] extends () => infer T ? T : never;
  outdir: string;
  /** Unacknowledged cdk-nag findings (errors and warnings) from the validation report. */
  findings: { plugin: string; rule: string; severity: string; paths: string[] }[];
}

/**
 * Synthesizes the app exactly as bin/serverless-mfa.ts does (cdk-nag included), with the
 * context of cdk.json plus `context`, and `settings` as stack props. One output directory per
 * test file, so a second synth in the same file reuses the bundles. Pass
 * `context: SKIP_BUNDLING` when a test needs the template but not the function code.
 */
export function synthesize(options: { context?: Record<string, unknown>; settings?: Partial<ServerlessMfaSettings> } = {}): Synthesized {
  const outdir = (processOutdir ??= mkdtempSync(join(tmpdir(), 'mfa-cdk-')));
  const { app, stack } = createApp({ outdir, context: { ...cdkJsonContext(), ...options.context } }, { settings: options.settings ?? {} });
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template as Record<string, unknown>);
  return { app, stack, template, json: template.toJSON(), outdir, findings: readFindings(outdir) };
}

function readFindings(outdir: string): Synthesized['findings'] {
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { pluginName: string; violations: { ruleName: string; severity: string; violatingConstructs?: { constructPath: string }[] }[] }[];
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((violation) => ({
      plugin: plugin.pluginName,
      rule: violation.ruleName,
      severity: violation.severity,
      paths: (violation.violatingConstructs ?? []).map((construct) => construct.constructPath),
    })),
  );
}

/** The directory of a function's bundled code in the cloud assembly. */
export function bundleDirOf(synth: Synthesized, functionId: string): string {
  const code = resource(synth, functionId).Properties!.Code as { S3Key: string };
  const manifest = JSON.parse(readFileSync(join(synth.outdir, `${synth.stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string } }>;
  };
  return join(synth.outdir, manifest.files[code.S3Key.replace(/\.zip$/, '')]!.source.path);
}

export function logicalId(construct: IConstruct): string {
  const element = construct instanceof CfnElement ? construct : (construct.node.defaultChild as CfnElement);
  return element.stack.resolve(element.logicalId) as string;
}

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

export function resources(synth: Synthesized, type?: string): [string, Resource][] {
  const all = Object.entries((synth.json as { Resources: Record<string, Resource> }).Resources);
  return type ? all.filter(([, resource]) => resource.Type === type) : all;
}

export function resource(synth: Synthesized, id: string): Resource {
  const found = (synth.json as { Resources: Record<string, Resource> }).Resources[id];
  if (!found) throw new Error(`No resource ${id} in the template.`);
  return found;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of every policy attached to the role, one entry per (statement, action). */
export function roleGrants(synth: Synthesized, roleId: string): { action: string; resource: unknown; condition: Statement['Condition'] }[] {
  return resources(synth, 'AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties!.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)
    .flatMap((statement) => {
      const actions = ([] as string[]).concat(statement.Action);
      const targets = ([] as unknown[]).concat(statement.Resource);
      return actions.flatMap((action) => targets.map((target) => ({ action, resource: target, condition: statement.Condition })));
    });
}

/** `{ "Fn::GetAtt": [id, "Arn"] }`, the way the template refers to a resource's ARN. */
export const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
