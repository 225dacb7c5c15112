import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { prepareEmails } from '../activities/email-templates';
import type { WorkerMetrics } from '../lib/metrics';
import type { Tracing } from '../lib/tracing';
import { countingMailer, observabilityOptions } from './metrics';

/** The workflow code prebundled by `npm run build` (scripts/build.ts), beside the compiled worker in dist/. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
const workflowBundle = join(__dirname, '..', WORKFLOW_BUNDLE_FILE);

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  metrics?: WorkerMetrics;
  tracing?: Tracing;
}

export async function createWorker({
  connection,
  namespace,
  taskQueue,
  deps,
  metrics,
  tracing,
}: WorkerOptions): Promise<Worker> {
  // Every mail's HTML is compiled here, once, rather than on the first story that sends it.
  await prepareEmails();
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    // The production build loads the prebundled code; sources (development, tests) are bundled at start.
    ...(existsSync(workflowBundle)
      ? { workflowBundle: { codePath: workflowBundle } }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(metrics ? { ...deps, mailer: countingMailer(deps.mailer, metrics) } : deps),
    ...observabilityOptions({ db: deps.db, metrics, tracing }),
  });
}
