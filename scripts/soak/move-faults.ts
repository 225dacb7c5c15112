import { temporal } from '@temporalio/proto';
import type { PlannedFault } from './faults';
import type { SoakStack } from './stack';

/**
 * A worker SIGKILLed in the middle of a move's apply is the crash the chunked apply is built for (issue 12: "a
 * worker killed mid-apply loses nothing and applies nothing twice"). Random moments seldom land there, so a
 * planned worker kill is aimed: at its moment, if a move is open, it waits up to APPLY_WAIT_MS for an apply to
 * run and kills the worker running it (found through Temporal: the apply activity's worker identity is
 * `<pid>@<host>`); with none in sight it kills the worker the seed drew, as before. The kinds and moments of the
 * faults stay the seed's; only which worker dies follows the load.
 */
const APPLY_WAIT_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function aimAtMoveApply(stack: SoakStack, fault: PlannedFault): Promise<PlannedFault> {
  const until = Date.now() + APPLY_WAIT_MS;
  for (;;) {
    const found = await workerApplyingAMove(stack).catch(() => undefined);
    if (found)
      return { ...fault, target: found.worker, note: `in the middle of move ${found.moveId}'s apply` };
    const open = await stack.db.contactMove
      .count({ where: { state: { in: ['checking', 'todo', 'applying'] } } })
      .catch(() => 0);
    if (open === 0 || Date.now() >= until) return fault;
    await sleep(250);
  }
}

/** The worker running a move's apply activity right now, if one is. */
async function workerApplyingAMove(stack: SoakStack) {
  const applying = await stack.db.contactMove.findMany({
    where: { state: 'applying' },
    select: { id: true, workflowId: true, runId: true },
  });
  for (const move of applying) {
    const { raw } = await stack.client.workflow.getHandle(move.workflowId, move.runId).describe();
    for (const activity of raw.pendingActivities ?? []) {
      if (activity.activityType?.name !== 'applyMoveChunks') continue;
      if (activity.state !== temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)
        continue;
      const identity = activity.lastWorkerIdentity ?? '';
      const worker = stack.workers.find((w) => w.pid() !== undefined && identity.startsWith(`${w.pid()}@`));
      if (worker) return { worker: worker.name, moveId: move.id };
    }
  }
  return undefined;
}
