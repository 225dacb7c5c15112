import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { prepareEmails } from '../activities/email-templates';
import type { WorkerMetrics } from '../lib/metrics';
import type { Tracing } from '../lib/tracing';
import { countingMailer, observabilityOptions } from './metrics';
import { workflowSource } from './workflow-bundle';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  metrics?: WorkerMetrics;
  tracing?: Tracing;
  /** Where the prebundled workflow code is (worker/workflow-bundle.ts); dist/ by default. */
  workflowBundleDir?: string;
  /** The sticky cache's size (WORKER_MAX_CACHED_WORKFLOWS); the SDK's default when unset. */
  maxCachedWorkflows?: number;
  /** WORKER_STICKY_QUEUE_TIMEOUT, in ms; the SDK's default (10 s) when unset. */
  stickyQueueTimeoutMs?: number;
}

export async function createWorker({
  connection,
  namespace,
  taskQueue,
  deps,
  metrics,
  tracing,
  workflowBundleDir,
  maxCachedWorkflows,
  stickyQueueTimeoutMs,
}: WorkerOptions): Promise<Worker> {
  // Every mail's HTML is compiled here, once, rather than on the first story that sends it.
  await prepareEmails();
  // The production build loads the prebundled code; sources (development, tests) are bundled at start.
  const source = workflowSource(tracing !== undefined, workflowBundleDir);
  const observability = observabilityOptions({ db: deps.db, metrics, tracing });
  if ('workflowBundle' in source) observability.interceptors.workflowModules = []; // already in the bundle
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    ...source,
    ...(maxCachedWorkflows ? { maxCachedWorkflows } : {}),
    ...(stickyQueueTimeoutMs ? { stickyQueueScheduleToStartTimeout: stickyQueueTimeoutMs } : {}),
    // A heartbeat reaches Temporal within a second (by default, 80 % of the heartbeat timeout): the move's apply
    // keeps a 5-second timeout with a wide margin for a live worker.
    maxHeartbeatThrottleInterval: '1 second',
    activities: createActivities(metrics ? { ...deps, mailer: countingMailer(deps.mailer, metrics) } : deps),
    ...observability,
  });
}
