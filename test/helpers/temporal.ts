import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporalBinary } from '../../lib/temporal-binaries';
import { devServerDynamicConfigFlags } from '../../lib/temporal-dynamic-config';
import { bundleWorkflows } from '../../worker/workflow-bundle';
import { SEARCH_ATTRIBUTES } from '../../workflows/contact-change.messages';

let runtimeInstalled = false;

/** Keeps test output readable: the SDK logs warnings and errors only. */
export function quietTemporalLogs(sdkMetricsBindAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: {
      logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} },
      ...(sdkMetricsBindAddress ? { metrics: { prometheus: { bindAddress: sdkMetricsBindAddress } } } : {}),
    },
  });
}

function executable(kind: 'cli' | 'testServer') {
  const path = temporalBinary(kind);
  return path ? { executable: { type: 'existing-path' as const, path } } : {};
}

export function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  quietTemporalLogs();
  return TestWorkflowEnvironment.createTimeSkipping({ server: executable('testServer') });
}

/**
 * The dev server (real clock, real visibility): for what the time-skipping server does not do, such as search
 * attributes and listing runs as the Temporal UI does. It registers the app's search attributes.
 */
export function devServerEnvironment(): Promise<TestWorkflowEnvironment> {
  quietTemporalLogs();
  return TestWorkflowEnvironment.createLocal({
    server: {
      ...executable('cli'),
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      log: { format: 'pretty', level: 'error' },
      // The dynamic configuration every server of the project runs with (eager activity dispatch).
      extraArgs: devServerDynamicConfigFlags(),
    },
  });
}

let bundled: Promise<string> | undefined;

/**
 * The workflow code bundled once per test file, for every worker the file creates: bundling at each Worker.create
 * cost 1-2.5 s of CPU per test (7 s at load 16), and a test of many steps on a loaded machine ran past its timeout.
 */
export async function workflowBundle(): Promise<{ workflowBundle: { code: string } }> {
  bundled ??= bundleWorkflows(false);
  return { workflowBundle: { code: await bundled } };
}
