import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { TRACING_WORKFLOW_MODULES } from '../lib/tracing';

/**
 * The contact-change workflow code prebundled by `npm run build` (scripts/build.ts) beside the compiled worker in
 * dist/, twice: plain, and with Temporal's OpenTelemetry workflow interceptors for a worker that traces. A bundle
 * cannot take interceptors at start, and carrying them untraced would cost every workflow activation.
 */
export const WORKFLOW_BUNDLE_FILES = {
  plain: 'workflow-bundle.js',
  traced: 'workflow-bundle-traced.js',
} as const;

/** Where the worker looks for the bundles: dist/ when it runs from the build. */
export const DEFAULT_BUNDLE_DIR = join(__dirname, '..');

const quiet = { info() {}, warn: console.warn, error: console.error, debug() {}, trace() {}, log() {} };

export async function bundleWorkflows(traced: boolean): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: traced ? TRACING_WORKFLOW_MODULES : [],
    logger: quiet,
  });
  return code;
}

/**
 * The prebundled code for this worker: from `dir` when given (WORKFLOW_BUNDLE_DIR: missing there is an error),
 * else from the build beside the compiled worker if it is there, else the sources, to bundle at start.
 */
export function workflowSource(traced: boolean, dir?: string) {
  const file = WORKFLOW_BUNDLE_FILES[traced ? 'traced' : 'plain'];
  const bundle = join(dir ?? DEFAULT_BUNDLE_DIR, file);
  if (existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  if (dir !== undefined)
    throw new Error(`WORKFLOW_BUNDLE_DIR=${dir} holds no ${file} (npm run build writes it)`);
  return { workflowsPath: require.resolve('../workflows') };
}
