import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporalBinary } from '../../lib/temporal-binaries';

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
