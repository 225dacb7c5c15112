import type { Prisma } from '../generated/prisma/client';
import { CANCELLABLE_STATES, OPEN_STATES, type TaskState } from '../workflows/contact-change.messages';

/** A task still in progress: it holds its roles' locks and takes actions. */
export function isOpen(state: string): boolean {
  return OPEN_STATES.includes(state as TaskState);
}

/** A task that can still be cancelled (not once its last acceptance has started the check and apply). */
export function isCancellable(state: string): boolean {
  return CANCELLABLE_STATES.includes(state as TaskState);
}

export interface TaskParties {
  askingAccount: string;
  fromAccount: string;
  toAccount: string;
  informed: string[];
  validators: { handle: string }[];
}

/** Who sees a task: the person who asked it, the old and new holders, its validators and the people told. */
export function seesTask(handle: string, task: TaskParties): boolean {
  return (
    task.askingAccount === handle ||
    task.fromAccount === handle ||
    task.toAccount === handle ||
    task.informed.includes(handle) ||
    task.validators.some((v) => v.handle === handle)
  );
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
    ],
  };
}

/** Who may cancel a task: the person who asked it. */
export function mayCancel(handle: string, task: Pick<TaskParties, 'askingAccount'>): boolean {
  return task.askingAccount === handle;
}
