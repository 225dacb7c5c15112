import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporalBinary } from '../../lib/temporal-binaries';
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
    },
  });
}
