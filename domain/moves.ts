import {
  CONTACT_TYPES,
  TASK_STATES,
  type ContactType,
  type TaskState,
} from '../workflows/contact-change.messages';
export { MOVE_STATES, OPEN_MOVE_STATES, type MoveState } from '../workflows/contact-move.messages';
import {
  planContactChange,
  rolesOf,
  RuleRefusal,
  type KnownAccount,
  type OpenTaskOnRole,
  type PlannedTask,
  type RefusalReason,
  type ServiceContacts,
} from './contact-rules';
import { isServiceType } from './service-types';

/**
 * A move: the same change (roles from one account to another) asked on many services at once. Each service is
 * judged by the single task's rule table (planContactChange), never by a copy of it: a move is many tasks that
 * share their validations, not a rule of its own.
 */

/** The API's role names (the provider's `contactTypes` in bodies) and the columns' names used everywhere else. */
export const MOVE_ROLE_NAMES = {
  admin: 'contactAdmin',
  tech: 'contactTech',
  billing: 'contactBilling',
} as const;
export type MoveRoleName = keyof typeof MOVE_ROLE_NAMES;

/**
 * Why a service of the selection does not move. The single task's reasons where one exists, and:
 * roleNotHeld (fromAccount holds none of the roles moved on it), serviceTypeNotAllowed (its family has no contact
 * change), and, at apply time, the single task's apply refusals (domain/contact-rules.ts: ApplyRefusal).
 */
export type MoveSkipReason =
  Exclude<RefusalReason, 'nothingToChange'> | 'roleNotHeld' | 'serviceTypeNotAllowed';

/** Item end reasons decided by people rather than by rules: counted as `refused`, not `skipped`. */
export const REFUSED_BY_PEOPLE = ['refusedByContact', 'excludedByValidator'] as const;

export interface MoveItemInput {
  asker: string;
  fromAccount: string;
  toAccount: string;
  roles: readonly ContactType[];
  service: { type: string; contacts: ServiceContacts };
  /** At least the asker, fromAccount and toAccount, when they exist. */
  accounts: Map<string, KnownAccount>;
  /** Tasks (single or another move's items) open on this service's roles. */
  openTasks: OpenTaskOnRole[];
}

export type MoveItemPlan =
  { movable: true; task: PlannedTask } | { movable: false; reason: MoveSkipReason; message: string };

/** Whether this service's roles can move, and if so the task it becomes (validators, informed): the rule table's answer. */
export function planMoveItem(input: MoveItemInput): MoveItemPlan {
  const { service } = input;
  if (rolesOf(input.asker, service.contacts).length === 0) {
    return {
      movable: false,
      reason: 'notAContact',
      message: 'you are not one of the contacts of this service',
    };
  }
  if (!isServiceType(service.type)) {
    return {
      movable: false,
      reason: 'serviceTypeNotAllowed',
      message: `the contacts of a ${service.type} service cannot be changed`,
    };
  }
  const held = input.roles.filter((role) => service.contacts[role] === input.fromAccount);
  if (held.length === 0) {
    return {
      movable: false,
      reason: 'roleNotHeld',
      message: `${input.fromAccount} holds none of these roles on this service`,
    };
  }
  try {
    const [task] = planContactChange({
      asker: input.asker,
      service: service.contacts,
      changes: Object.fromEntries(held.map((role) => [role, input.toAccount])),
      accounts: input.accounts,
      openTasks: input.openTasks,
    });
    // Every role moves from one account to one account: the rule table plans exactly one task.
    if (task.existingTaskId !== undefined) {
      // The very same single task is open: the move must not hold its roles too.
      return {
        movable: false,
        reason: 'taskAlreadyOpen',
        message: 'the very same change is already open as a single task',
      };
    }
    return { movable: true, task };
  } catch (error) {
    if (!(error instanceof RuleRefusal) || error.reason === 'nothingToChange') throw error;
    return { movable: false, reason: error.reason, message: error.message };
  }
}

/** Roles in the rule table's order, whatever the order asked. */
export function moveRoles(names: readonly MoveRoleName[]): ContactType[] {
  const wanted = new Set(names.map((name) => MOVE_ROLE_NAMES[name]));
  return CONTACT_TYPES.filter((role) => wanted.has(role));
}

export interface MoveCounts {
  total: number;
  applied: number;
  skipped: number;
  refused: number;
  expired: number;
  cancelled: number;
  remaining: number;
}

/** The counts of a move from its items' (state, reason) groups: the items are the truth, nothing is kept twice. */
export function countItems(groups: { state: string; reason: string | null; count: number }[]): MoveCounts {
  const counts: MoveCounts = {
    total: 0,
    applied: 0,
    skipped: 0,
    refused: 0,
    expired: 0,
    cancelled: 0,
    remaining: 0,
  };
  for (const { state, reason, count } of groups) {
    counts.total += count;
    if (state === 'done') counts.applied += count;
    else if (state === 'refused')
      counts[(REFUSED_BY_PEOPLE as readonly string[]).includes(reason ?? '') ? 'refused' : 'skipped'] +=
        count;
    else if (state === 'expired') counts.expired += count;
    // An item aborted by a rule at apply (askerNoLongerEntitled) was skipped; one aborted by a person, cancelled.
    else if (state === 'aborted') counts[reason?.startsWith('cancelled') ? 'cancelled' : 'skipped'] += count;
    else counts.remaining += count;
  }
  return counts;
}

/**
 * An item's state as people see it (the provider's task routes, the move's item list). An item waits in
 * `validatingByCustomers` until its chunk is applied: once its move is `applying` (every validator accepted), that
 * wait is the check and apply, `checkValidity` as for a single task. The items are not rewritten to say so when
 * the last acceptance arrives: that was a write of every item (50,000) before the first chunk could start
 * (docs/decisions/moves.md, "Apply in chunks"). The one place this is written: the filters read it backwards
 * (itemStatesShownAs here, tasksShownIn in domain/tasks.ts).
 */
export function itemStateShown(itemState: string, moveState: string | undefined): string {
  return itemState === 'validatingByCustomers' && moveState === 'applying' ? 'checkValidity' : itemState;
}

/** The stored item states shown as `shown` while the move is in `moveState` (itemStateShown, read backwards). */
export function itemStatesShownAs(shown: string, moveState: string): TaskState[] {
  return TASK_STATES.filter((stored) => itemStateShown(stored, moveState) === shown);
}

/**
 * A validator's status on an item of a move. The move's acceptance covers every item the person validates, so an
 * item's row still `pending` shows the person's decision on the move (the apply writes `accepted` on each item it
 * ends; an item left out or refused has its own row's `refused`).
 */
export function itemValidatorStatus(rowStatus: string, moveStatus: string | undefined): string {
  return rowStatus === 'pending' && moveStatus ? moveStatus : rowStatus;
}

/** The people of a move: its asker, the old and new holders, its validators and the people told. */
export interface MoveParties {
  askingAccount: string;
  fromAccount: string;
  toAccount: string;
  informed: string[];
  validators: { handle: string }[];
}

/** Who sees a move: its asker, the old and new holders, its validators and the people told. */
export function seesMove(handle: string, move: MoveParties): boolean {
  return whoSeesMove(move).has(handle);
}

/** Everyone seesMove lets see the move (webhook deliveries go to them, and to no one else). */
export function whoSeesMove(move: MoveParties): Set<string> {
  return new Set([
    move.askingAccount,
    move.fromAccount,
    move.toAccount,
    ...move.informed,
    ...move.validators.map((v) => v.handle),
  ]);
}
