import type { Client } from '@temporalio/client';
import { Prisma } from '../generated/prisma/client';
import type { Db } from '../lib/db';
import { isOpen, tasksSeenBy } from '../domain/tasks';
import { cancelUpdate, resendUpdate, taskQuery } from '../workflows/contact-change.messages';

/**
 * What an operator does (SPEC, "History and operators"): find tasks by id, service or handle, see where one
 * waits, cancel it or resend a validator's email. Every action names the operator, and lands in the audit log.
 */
export function createOperatorTools(db: Db, temporal: Client) {
  const include = { validators: true, events: { orderBy: { id: 'asc' as const } } };

  async function find(filter: { id?: number; service?: string; handle?: string; needsAttention?: boolean }) {
    return db.contactChangeTask.findMany({
      where: {
        ...(filter.id !== undefined ? { id: filter.id } : {}),
        ...(filter.needsAttention ? { needsAttention: { not: Prisma.AnyNull } } : {}),
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
    /** Cancels the task (it ends as aborted, cancelledByOperator); the answer is the task as cancelled. */
    async cancel(id: number, operator: string) {
      const handle = await openTask(id);
      return handle.executeUpdate(cancelUpdate, { args: [{ by: `operator:${operator}`, operator: true }] });
    },
    /** Sends a validator a fresh code (the resend interval holds for operators too). */
    async resend(id: number, validator: string, operator: string) {
      const handle = await openTask(id);
      const request = { by: `operator:${operator}`, operator: true, to: [validator] };
      return handle.executeUpdate(resendUpdate, { args: [request] });
    },
  };
}
