import type { Client } from '@temporalio/client';
import type { Db } from '../lib/db';
import { isOpen, tasksSeenBy } from '../domain/tasks';
import { cancelSignal, resendSignal, taskQuery } from '../workflows/contact-change.messages';

/**
 * What an operator does (SPEC, "History and operators"): find tasks by id, service or handle, see where one
 * waits, cancel it or resend a validator's email. Every action names the operator, and lands in the audit log.
 */
export function createOperatorTools(db: Db, temporal: Client) {
  const include = { validators: true, events: { orderBy: { id: 'asc' as const } } };

  async function find(filter: { id?: number; service?: string; handle?: string }) {
    return db.contactChangeTask.findMany({
      where: {
        ...(filter.id !== undefined ? { id: filter.id } : {}),
        ...(filter.service ? { serviceName: filter.service } : {}),
        ...(filter.handle ? tasksSeenBy(filter.handle) : {}),
      },
      include,
      orderBy: { id: 'desc' },
      take: 100,
    });
  }

  async function openTask(id: number) {
    const task = await db.contactChangeTask.findUnique({ where: { id } });
    if (!task) throw new Error(`task ${id} does not exist`);
    if (!isOpen(task.state)) throw new Error(`task ${id} is ${task.state}, no longer open`);
    return temporal.workflow.getHandle(task.workflowId, task.runId ?? undefined);
  }

  return {
    find,
    async whereItWaits(id: number) {
      return (await openTask(id)).query(taskQuery);
    },
    async cancel(id: number, operator: string) {
      const handle = await openTask(id);
      await handle.signal(cancelSignal, { by: `operator:${operator}` });
      return handle.result();
    },
    async resend(id: number, validator: string, operator: string) {
      await (await openTask(id)).signal(resendSignal, { account: validator, by: `operator:${operator}` });
    },
  };
}
