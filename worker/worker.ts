import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { prepareEmails } from '../activities/email-templates';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
}

export async function createWorker({
  connection,
  namespace,
  taskQueue,
  deps,
}: WorkerOptions): Promise<Worker> {
  // Every mail's HTML is compiled here, once, rather than on the first story that sends it.
  await prepareEmails();
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities(deps),
  });
}
