import { CONTACT_TYPES, type ContactType } from '../workflows/contact-change.messages';

/**
 * The rule table of SPEC.md, as pure functions: who may ask what, who validates, who is informed, and what must
 * still hold when the change is applied (the same rules, checked again against the service as it is then).
 */

export interface ServiceContacts {
  contactAdmin: string;
  contactTech: string;
  contactBilling: string;
}

export type BillingStanding = 'good' | 'arrears';

export interface KnownAccount {
  handle: string;
  billingStanding: BillingStanding;
}

/** A billing contact changes only between two accounts in good standing (SPEC: billing in arrears). */
export function billingStandingAllows(
  roles: readonly string[],
  oldHolder: KnownAccount | undefined,
  newHolder: KnownAccount | undefined,
): boolean {
  if (!roles.includes('contactBilling')) return true;
  return oldHolder?.billingStanding === 'good' && newHolder?.billingStanding === 'good';
}

export interface OpenTaskOnRole {
  role: ContactType;
  taskId: number;
  askingAccount: string;
  fromAccount: string;
  toAccount: string;
  contactTypes: string[];
}

export interface ChangeRequest {
  asker: string;
  service: ServiceContacts;
  /** New holder per role, handles already normalised (lower case). */
  changes: Partial<Record<ContactType, string>>;
  accounts: Map<string, KnownAccount>;
  openTasks: OpenTaskOnRole[];
}

export interface PlannedTask {
  fromAccount: string;
  toAccount: string;
  contactTypes: ContactType[];
  validators: string[];
  informed: string[];
  /** Set when an identical task is already open: a retried request answers it instead of a new one. */
  existingTaskId?: number;
}

export type RefusalReason =
  | 'nothingToChange'
  | 'notAContact'
  | 'roleNotAllowed'
  | 'contactNotEligible'
  | 'sameAsCurrent'
  | 'billingInArrears'
  | 'taskAlreadyOpen';

export const REFUSAL_STATUS: Record<RefusalReason, number> = {
  nothingToChange: 400,
  notAContact: 404,
  roleNotAllowed: 403,
  contactNotEligible: 422,
  sameAsCurrent: 422,
  billingInArrears: 422,
  taskAlreadyOpen: 409,
};

export class RuleRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    /** For taskAlreadyOpen: the task in the way (named to the asker only if they may see it: domain/tasks.ts). */
    readonly blockingTaskId?: number,
  ) {
    super(message);
  }
}

export function rolesOf(handle: string, service: ServiceContacts): ContactType[] {
  return CONTACT_TYPES.filter((role) => service[role] === handle);
}

/** The admin may change every role; a tech or billing contact only names its own successor. */
export function mayAskFor(askerRoles: readonly ContactType[], role: ContactType): boolean {
  if (askerRoles.includes('contactAdmin')) return true;
  return askerRoles.includes(role) && role !== 'contactAdmin';
}

function checkAllowed(asker: string, askerRoles: ContactType[], role: ContactType): void {
  if (!mayAskFor(askerRoles, role)) {
    throw new RuleRefusal(
      'roleNotAllowed',
      `${asker} may not change the ${role} of this service: a tech or billing contact may only name its own successor`,
    );
  }
}

/**
 * Whether another account exists and whether it is in arrears are not the asker's business: both answer the
 * same `contactNotEligible`. Only the asker's own arrears are named (`billingInArrears`): they can act on it.
 */
function checkTarget(request: ChangeRequest, role: ContactType, newHolder: string): void {
  const current = request.service[role];
  const target = request.accounts.get(newHolder);
  if (target && newHolder === current) {
    throw new RuleRefusal('sameAsCurrent', `${newHolder} is already the ${role}`);
  }
  if (target && billingStandingAllows([role], request.accounts.get(current), target)) return;
  const askerInArrears = request.accounts.get(request.asker)?.billingStanding === 'arrears';
  if (target && askerInArrears && [current, newHolder].includes(request.asker)) {
    throw new RuleRefusal('billingInArrears', 'your account is not in good standing: settle it first');
  }
  throw new RuleRefusal(
    'contactNotEligible',
    `${newHolder} cannot be named for this service: check the handle with its holder (a billing contact must be in good standing)`,
  );
}

function validatorsFor(asker: string, toAccount: string): string[] {
  const validators = [asker];
  if (toAccount !== asker) validators.push(toAccount);
  return validators;
}

export function planContactChange(request: ChangeRequest): PlannedTask[] {
  const roles = CONTACT_TYPES.filter((role) => request.changes[role] !== undefined);
  if (roles.length === 0) throw new RuleRefusal('nothingToChange', 'name at least one new contact');
  const askerRoles = rolesOf(request.asker, request.service);
  if (askerRoles.length === 0) {
    throw new RuleRefusal('notAContact', 'this service does not exist or you are not one of its contacts');
  }
  const groups = new Map<string, PlannedTask>();
  for (const role of roles) {
    const toAccount = request.changes[role]!;
    checkAllowed(request.asker, askerRoles, role);
    checkTarget(request, role, toAccount);
    const fromAccount = request.service[role];
    const key = `${fromAccount}->${toAccount}`;
    const group = groups.get(key) ?? {
      fromAccount,
      toAccount,
      contactTypes: [],
      validators: [],
      informed: [],
    };
    group.contactTypes.push(role);
    groups.set(key, group);
  }
  const planned = [...groups.values()].map((group) => {
    const validators = validatorsFor(request.asker, group.toAccount);
    const informed = validators.includes(group.fromAccount) ? [] : [group.fromAccount];
    return { ...group, validators, informed };
  });
  for (const task of planned) task.existingTaskId = findIdenticalOpenTask(request, task);
  return planned;
}

function findIdenticalOpenTask(request: ChangeRequest, task: PlannedTask): number | undefined {
  const holders = task.contactTypes.map((role) => request.openTasks.find((open) => open.role === role));
  if (holders.every((open) => open === undefined)) return undefined;
  const first = holders[0];
  const identical =
    first !== undefined &&
    holders.every((open) => open?.taskId === first.taskId) &&
    first.askingAccount === request.asker &&
    first.fromAccount === task.fromAccount &&
    first.toAccount === task.toAccount &&
    [...first.contactTypes].sort().join() === [...task.contactTypes].sort().join();
  if (identical) return first.taskId;
  const busy = holders.find((open) => open !== undefined)!;
  throw new RuleRefusal(
    'taskAlreadyOpen',
    `another task is already open for the ${busy.role} of this service`,
    busy.taskId,
  );
}

export type ApplyRefusal =
  'roleNoLongerHeld' | 'unknownAccount' | 'billingInArrears' | 'askerNoLongerEntitled';

/**
 * How a task ends when its change cannot be applied: a precondition that no longer holds refuses it, as at
 * request time; an asker who may no longer ask this change (e.g. no longer the admin) aborts it.
 */
export const END_STATE_OF_APPLY_REFUSAL: Record<ApplyRefusal, 'refused' | 'aborted'> = {
  roleNoLongerHeld: 'refused',
  unknownAccount: 'refused',
  billingInArrears: 'refused',
  askerNoLongerEntitled: 'aborted',
};

export interface ApplyCheck {
  askingAccount: string;
  fromAccount: string;
  toAccount: string;
  contactTypes: readonly ContactType[];
  /** The service's contacts as they are when the change is applied. */
  service: ServiceContacts;
  /** At least the old and new holders, when they exist. */
  accounts: Map<string, KnownAccount>;
}

/**
 * What must still be true when a validated change is applied: the request-time rules that can change meanwhile,
 * the asker's right to ask this change included (the same table as at request time, on the service as it is now).
 */
export function recheckAtApply(check: ApplyCheck): ApplyRefusal | undefined {
  const from = check.accounts.get(check.fromAccount);
  const to = check.accounts.get(check.toAccount);
  if (!from || check.contactTypes.some((role) => check.service[role] !== check.fromAccount))
    return 'roleNoLongerHeld';
  const askerRoles = rolesOf(check.askingAccount, check.service);
  if (!check.contactTypes.every((role) => mayAskFor(askerRoles, role))) return 'askerNoLongerEntitled';
  if (!to) return 'unknownAccount';
  if (!billingStandingAllows(check.contactTypes, from, to)) return 'billingInArrears';
  return undefined;
}
