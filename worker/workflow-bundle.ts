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

/** The prebundled code for this worker if the build left it in `dir`, else the sources to bundle at start. */
export function workflowSource(traced: boolean, dir = DEFAULT_BUNDLE_DIR) {
  const bundle = join(dir, WORKFLOW_BUNDLE_FILES[traced ? 'traced' : 'plain']);
  return existsSync(bundle)
    ? { workflowBundle: { codePath: bundle } }
    : { workflowsPath: require.resolve('../workflows') };
}
