import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** The identities (pid@host) of the workers polling the task queue for workflow tasks lately. */
export async function pollerIdentities(connection: Connection, taskQueue: string): Promise<string[]> {
  const { pollers } = await connection.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return [...new Set((pollers ?? []).map((poller) => poller.identity ?? ''))];
}

/**
 * The workers polling the task queue for workflow tasks, once there are `expected` of them or after timeoutMs:
 * workers that are still starting (bundling the workflows takes seconds, more on a loaded machine) would leave
 * the first stories, and their sticky workflows, to the others, or to nobody.
 */
export async function untilPolling(
  connection: Connection,
  taskQueue: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<number> {
  for (const until = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 250))) {
    const polling = (await pollerIdentities(connection, taskQueue)).length;
    if (polling >= expected || Date.now() > until) return polling;
  }
}

/**
 * Once the worker process `pid` polls the task queue (its identity is pid@host, the SDK's default), or after
 * timeoutMs: after a restart the stopped process is still listed for a while, so a count of pollers says nothing.
 */
export async function untilPolledBy(
  connection: Connection,
  taskQueue: string,
  pid: number,
  timeoutMs = 60_000,
): Promise<boolean> {
  for (const until = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const identities = await pollerIdentities(connection, taskQueue);
    if (identities.some((identity) => identity.startsWith(`${pid}@`))) return true;
    if (Date.now() > until) return false;
  }
}
