import type { OpenTaskOnRole } from '../../domain/contact-rules';
import {
  countItems,
  itemStateShown,
  itemStatesShownAs,
  itemValidatorStatus,
  moveRoles,
  planMoveItem,
  type MoveItemInput,
} from '../../domain/moves';

const contacts = { contactAdmin: 'ad1-ovh', contactTech: 'te2-ovh', contactBilling: 'bi3-ovh' };
const accounts = new Map(
  ['ad1-ovh', 'te2-ovh', 'bi3-ovh', 'ne4-ovh'].map((handle) => [
    handle,
    { handle, billingStanding: 'good' as 'good' | 'arrears' },
  ]),
);
accounts.set('ar6-ovh', { handle: 'ar6-ovh', billingStanding: 'arrears' });

function item(overrides: Partial<MoveItemInput>) {
  return planMoveItem({
    asker: 'ad1-ovh',
    fromAccount: 'te2-ovh',
    toAccount: 'ne4-ovh',
    roles: ['contactTech'],
    service: { type: 'domain', contacts },
    accounts,
    openTasks: [],
    ...overrides,
  });
}

const reasonOf = (plan: ReturnType<typeof planMoveItem>) => (plan.movable ? 'movable' : plan.reason);

describe('a move judges each service by the rule table of a single task', () => {
  test.each([
    // [case, overrides, validators, informed]
    ['admin names a new tech', {}, ['ad1-ovh', 'ne4-ovh'], ['te2-ovh']],
    ['admin becomes the tech itself', { toAccount: 'ad1-ovh' }, ['ad1-ovh'], ['te2-ovh']],
    [
      'admin hands over its admin role',
      { fromAccount: 'ad1-ovh', roles: ['contactAdmin'] as const },
      ['ad1-ovh', 'ne4-ovh'],
      [],
    ],
    ['tech names its successor', { asker: 'te2-ovh' }, ['te2-ovh', 'ne4-ovh'], []],
    [
      'billing names its successor',
      { asker: 'bi3-ovh', fromAccount: 'bi3-ovh', roles: ['contactBilling'] as const },
      ['bi3-ovh', 'ne4-ovh'],
      [],
    ],
  ])('%s: validators and informed as for a single task', (_name, overrides, validators, informed) => {
    const plan = item(overrides as Partial<MoveItemInput>);
    expect(plan).toMatchObject({ movable: true, task: { validators, informed } });
  });

  test('only the roles fromAccount holds on the service move; the task carries them', () => {
    const plan = item({ roles: ['contactTech', 'contactBilling'] });
    expect(plan).toMatchObject({ movable: true, task: { contactTypes: ['contactTech'] } });
    const both = item({
      roles: ['contactTech', 'contactBilling'],
      service: { type: 'domain', contacts: { ...contacts, contactBilling: 'te2-ovh' } },
    });
    expect(both).toMatchObject({ movable: true, task: { contactTypes: ['contactTech', 'contactBilling'] } });
  });

  const open: OpenTaskOnRole = {
    role: 'contactTech',
    taskId: 7,
    askingAccount: 'ad1-ovh',
    fromAccount: 'te2-ovh',
    toAccount: 'ot5-ovh',
    contactTypes: ['contactTech'],
  };
  test.each([
    ['the asker is none of the contacts', { asker: 'st9-ovh' }, 'notAContact'],
    ['fromAccount holds none of the roles', { fromAccount: 'bi3-ovh' }, 'roleNotHeld'],
    [
      'a service family without contact change',
      { service: { type: 'toaster', contacts } },
      'serviceTypeNotAllowed',
    ],
    [
      'a tech asks to move the admin role',
      { asker: 'te2-ovh', fromAccount: 'ad1-ovh', roles: ['contactAdmin'] as const },
      'roleNotAllowed',
    ],
    ['the new holder is the current one', { toAccount: 'te2-ovh' }, 'sameAsCurrent'],
    ['the new holder does not exist', { toAccount: 'zz0-ovh' }, 'contactNotEligible'],
    [
      'a billing change to an account in arrears',
      { fromAccount: 'bi3-ovh', toAccount: 'ar6-ovh', roles: ['contactBilling'] as const },
      'contactNotEligible',
    ],
    [
      'the asker itself is in arrears',
      {
        asker: 'ar6-ovh',
        fromAccount: 'ar6-ovh',
        roles: ['contactBilling'] as const,
        service: { type: 'domain', contacts: { ...contacts, contactBilling: 'ar6-ovh' } },
      },
      'billingInArrears',
    ],
    ['another task is open on the role', { openTasks: [open] }, 'taskAlreadyOpen'],
    [
      'the very same single task is open',
      { openTasks: [{ ...open, toAccount: 'ne4-ovh' }] },
      'taskAlreadyOpen',
    ],
  ])('%s: not movable', (_name, overrides, reason) => {
    expect(reasonOf(item(overrides as Partial<MoveItemInput>))).toBe(reason);
  });

  test('roles in the rule table order whatever the order asked', () => {
    expect(moveRoles(['billing', 'admin', 'billing'])).toEqual(['contactAdmin', 'contactBilling']);
  });

  test('counts come from the items: people refusals apart from rule skips', () => {
    expect(
      countItems([
        { state: 'done', reason: null, count: 5 },
        { state: 'refused', reason: 'taskAlreadyOpen', count: 2 },
        { state: 'refused', reason: 'excludedByValidator', count: 1 },
        { state: 'refused', reason: 'refusedByContact', count: 1 },
        { state: 'validatingByCustomers', reason: null, count: 3 },
        { state: 'expired', reason: null, count: 4 },
      ]),
    ).toEqual({ total: 16, applied: 5, skipped: 2, refused: 2, expired: 4, cancelled: 0, remaining: 3 });
  });
});

describe("a move's items as people see them", () => {
  test('an item waiting while its move applies is in checkValidity; otherwise its own state', () => {
    expect(itemStateShown('validatingByCustomers', 'applying')).toBe('checkValidity');
    expect(itemStateShown('validatingByCustomers', 'todo')).toBe('validatingByCustomers');
    expect(itemStateShown('done', 'applying')).toBe('done');
    expect(itemStateShown('refused', 'applying')).toBe('refused');
    expect(itemStateShown('validatingByCustomers', undefined)).toBe('validatingByCustomers');
  });

  test('a state filter finds the stored states shown so, and nothing shown otherwise', () => {
    expect(itemStatesShownAs('checkValidity', 'applying')).toEqual([
      'checkValidity',
      'validatingByCustomers',
    ]);
    expect(itemStatesShownAs('validatingByCustomers', 'applying')).toEqual([]);
    expect(itemStatesShownAs('validatingByCustomers', 'todo')).toEqual(['validatingByCustomers']);
    expect(itemStatesShownAs('done', 'done')).toEqual(['done']);
  });

  test("a validator's pending row shows their decision on the move; a row of its own stands", () => {
    expect(itemValidatorStatus('pending', 'accepted')).toBe('accepted');
    expect(itemValidatorStatus('pending', 'pending')).toBe('pending');
    expect(itemValidatorStatus('refused', 'accepted')).toBe('refused');
    expect(itemValidatorStatus('accepted', undefined)).toBe('accepted');
  });
});
