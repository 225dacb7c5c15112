import type { ContactType } from '../workflows/contact-change.messages';

/** The rule table of SPEC.md, as a pure function: who may ask what, who validates, who is informed. */

export interface ServiceContacts {
  contactAdmin: string;
  contactTech: string;
  contactBilling: string;
}

export interface KnownAccount {
  handle: string;
  billingStanding: 'good' | 'arrears';
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
  | 'unknownAccount'
  | 'sameAsCurrent'
  | 'billingInArrears'
  | 'taskAlreadyOpen';

export const REFUSAL_STATUS: Record<RefusalReason, number> = {
  nothingToChange: 400,
  notAContact: 404,
  roleNotAllowed: 403,
  unknownAccount: 422,
  sameAsCurrent: 422,
  billingInArrears: 422,
  taskAlreadyOpen: 409,
};

export class RuleRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

export const ROLE_ORDER: ContactType[] = ['contactAdmin', 'contactTech', 'contactBilling'];

export function rolesOf(handle: string, service: ServiceContacts): ContactType[] {
  return ROLE_ORDER.filter((role) => service[role] === handle);
}

function checkAllowed(asker: string, askerRoles: ContactType[], role: ContactType): void {
  if (askerRoles.includes('contactAdmin')) return;
  const replacesItself = askerRoles.includes(role) && role !== 'contactAdmin';
  if (!replacesItself) {
    throw new RuleRefusal(
      'roleNotAllowed',
      `${asker} may not change the ${role} of this service: a tech or billing contact may only name its own successor`,
    );
  }
}

function checkTarget(request: ChangeRequest, role: ContactType, newHolder: string): void {
  const current = request.service[role];
  const target = request.accounts.get(newHolder);
  if (!target) throw new RuleRefusal('unknownAccount', `the account ${newHolder} does not exist`);
  if (newHolder === current) throw new RuleRefusal('sameAsCurrent', `${newHolder} is already the ${role}`);
  if (role === 'contactBilling') {
    const old = request.accounts.get(current);
    if (target.billingStanding !== 'good' || old?.billingStanding !== 'good') {
      throw new RuleRefusal(
        'billingInArrears',
        'the old and the new billing contacts must both be in good standing',
      );
    }
  }
}

function validatorsFor(asker: string, toAccount: string): string[] {
  const validators = [asker];
  if (toAccount !== asker) validators.push(toAccount);
  return validators;
}

export function planContactChange(request: ChangeRequest): PlannedTask[] {
  const roles = ROLE_ORDER.filter((role) => request.changes[role] !== undefined);
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
    `task ${busy.taskId} is already open for the ${busy.role} of this service`,
  );
}
