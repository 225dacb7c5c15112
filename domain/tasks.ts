import type { ContactChangeTask, Prisma } from '../generated/prisma/client';
import {
  CANCELLABLE_STATES,
  mayCancelTask,
  OPEN_STATES,
  type TaskState,
} from '../workflows/contact-change.messages';
import { itemStatesShownAs, MOVE_STATES, type MoveState } from './moves';

/** A task still in progress: it holds its roles' locks and takes actions. */
export function isOpen(state: string): boolean {
  return OPEN_STATES.includes(state as TaskState);
}

/** A task that can still be cancelled (not once its last acceptance has started the check and apply). */
export function isCancellable(state: string): boolean {
  return CANCELLABLE_STATES.includes(state as TaskState);
}

/** Which request a task is and what it asks: what every view of it starts from (its mails, the API's answer). */
export type TaskRequest = Pick<
  ContactChangeTask,
  | 'id'
  | 'workflowId'
  | 'runId'
  | 'serviceName'
  | 'serviceType'
  | 'contactTypes'
  | 'fromAccount'
  | 'toAccount'
  | 'askingAccount'
  | 'reason'
  | 'expiresAt'
  | 'needsAttention'
>;

export interface TaskParties {
  askingAccount: string;
  fromAccount: string;
  toAccount: string;
  informed: string[];
  validators: { handle: string }[];
  /** The service's admin contact as it is now (not when the task was asked). */
  serviceAdmin: string;
}

/**
 * Who sees a task: the person who asked it, the old and new holders, its validators, the people told, and the
 * service's admin contact as it is now. The admin answers for every role of the service: a task asked before they
 * became admin still locks its roles, so they see it and may cancel it (issue 11, finding 4). This holds for
 * every task row of the service, whatever made it (a single change or an item of a move).
 */
export function seesTask(handle: string, task: TaskParties): boolean {
  return whoSeesTask(task).has(handle);
}

/** Everyone seesTask lets see the task (webhook deliveries go to them, and to no one else). */
export function whoSeesTask(task: TaskParties): Set<string> {
  return new Set([
    task.askingAccount,
    task.fromAccount,
    task.toAccount,
    ...task.informed,
    ...task.validators.map((v) => v.handle),
    task.serviceAdmin,
  ]);
}

/** The same rule as seesTask, as a database filter. */
export function tasksSeenBy(handle: string): Prisma.ContactChangeTaskWhereInput {
  return {
    OR: [
      { askingAccount: handle },
      { fromAccount: handle },
      { toAccount: handle },
      { informed: { has: handle } },
      { validators: { some: { handle } } },
      { service: { admin: { handle } } },
    ],
  };
}

/**
 * The tasks people see in `state`: itemStateShown's rule (domain/moves.ts), the one place it is written, read
 * backwards as a database filter. A single task shows its own state; an item of a move shows what its state is
 * shown as while its move is in each state (an item of an applying move still waiting for its chunk is in
 * `checkValidity`, not `validatingByCustomers`). Move states that show the same stored states share one branch.
 */
export function tasksShownIn(state: TaskState): Prisma.ContactChangeTaskWhereInput {
  const movesByStored = new Map<string, { stored: TaskState[]; moves: MoveState[] }>();
  for (const moveState of MOVE_STATES) {
    const stored = itemStatesShownAs(state, moveState);
    const key = stored.join();
    const group = movesByStored.get(key) ?? { stored, moves: [] };
    group.moves.push(moveState);
    movesByStored.set(key, group);
  }
  const own = movesByStored.get(state);
  if (own && own.moves.length === MOVE_STATES.length) return { state };
  const branches: Prisma.ContactChangeTaskWhereInput[] = [
    {
      state,
      OR: [{ moveId: null }, ...(own ? [{ move: { is: { state: { in: own.moves } } } }] : [])],
    },
  ];
  for (const [key, { stored, moves }] of movesByStored) {
    if (key === state || stored.length === 0) continue;
    branches.push({ state: { in: stored }, move: { is: { state: { in: moves } } } });
  }
  return branches.length === 1 ? branches[0] : { OR: branches };
}

/** What to load with a task so that seesTask and mayCancel can judge it. */
export const TASK_PARTIES_INCLUDE = {
  validators: true,
  service: { select: { admin: { select: { handle: true } } } },
} as const satisfies Prisma.ContactChangeTaskInclude;

/** The parties of a task loaded with TASK_PARTIES_INCLUDE. */
export function taskParties<
  T extends Omit<TaskParties, 'serviceAdmin'> & { service: { admin: { handle: string } } },
>(task: T): T & TaskParties {
  return { ...task, serviceAdmin: task.service.admin.handle };
}

/** Who may cancel a task: its asker or the service's admin contact now (the rule: mayCancelTask). */
export function mayCancel(
  handle: string,
  task: Pick<TaskParties, 'askingAccount' | 'serviceAdmin'>,
): boolean {
  return mayCancelTask(task, { by: handle, serviceAdmin: task.serviceAdmin === handle });
}

/** What the workflow's cancel Update is told about the caller (it cannot read the database itself). */
export function cancelRequestFor(
  handle: string,
  task: Pick<TaskParties, 'serviceAdmin'>,
  sourceIp?: string,
): { by: string; serviceAdmin?: boolean; sourceIp?: string } {
  return { by: handle, ...(task.serviceAdmin === handle ? { serviceAdmin: true } : {}), sourceIp };
}
