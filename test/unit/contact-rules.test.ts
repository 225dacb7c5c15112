import {
  ChangeRequest,
  planContactChange,
  recheckAtApply,
  RuleRefusal,
  type OpenTaskOnRole,
} from '../../domain/contact-rules';

const service = { contactAdmin: 'ad1-ovh', contactTech: 'te2-ovh', contactBilling: 'bi3-ovh' };
const accounts = new Map(
  ['ad1-ovh', 'te2-ovh', 'bi3-ovh', 'ne4-ovh', 'ot5-ovh'].map((handle) => [
    handle,
    { handle, billingStanding: 'good' as 'good' | 'arrears' },
  ]),
);
accounts.set('ar6-ovh', { handle: 'ar6-ovh', billingStanding: 'arrears' });

function plan(asker: string, changes: ChangeRequest['changes'], extra: Partial<ChangeRequest> = {}) {
  return planContactChange({ asker, service, changes, accounts, openTasks: [], ...extra });
}

function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    if (error instanceof RuleRefusal) return error.reason;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the rule table', () => {
  test('admin names a new tech and billing contact: admin and the new contact validate, old contacts are informed', () => {
    expect(plan('ad1-ovh', { contactTech: 'ne4-ovh', contactBilling: 'ne4-ovh' })).toEqual([
      {
        fromAccount: 'te2-ovh',
        toAccount: 'ne4-ovh',
        contactTypes: ['contactTech'],
        validators: ['ad1-ovh', 'ne4-ovh'],
        informed: ['te2-ovh'],
        existingTaskId: undefined,
      },
      {
        fromAccount: 'bi3-ovh',
        toAccount: 'ne4-ovh',
        contactTypes: ['contactBilling'],
        validators: ['ad1-ovh', 'ne4-ovh'],
        informed: ['bi3-ovh'],
        existingTaskId: undefined,
      },
    ]);
  });

  test('admin becomes tech and billing itself: the admin alone validates', () => {
    const tasks = plan('ad1-ovh', { contactTech: 'ad1-ovh' });
    expect(tasks).toMatchObject([{ validators: ['ad1-ovh'], informed: ['te2-ovh'], toAccount: 'ad1-ovh' }]);
  });

  test('admin names a new admin in its place: both validate, nobody else is informed', () => {
    expect(plan('ad1-ovh', { contactAdmin: 'ne4-ovh' })).toMatchObject([
      {
        fromAccount: 'ad1-ovh',
        toAccount: 'ne4-ovh',
        contactTypes: ['contactAdmin'],
        validators: ['ad1-ovh', 'ne4-ovh'],
        informed: [],
      },
    ]);
  });

  test('tech names another tech in its place', () => {
    expect(plan('te2-ovh', { contactTech: 'ne4-ovh' })).toMatchObject([
      { fromAccount: 'te2-ovh', validators: ['te2-ovh', 'ne4-ovh'], informed: [] },
    ]);
  });

  test('billing names another billing contact in its place', () => {
    expect(plan('bi3-ovh', { contactBilling: 'ne4-ovh' })).toMatchObject([
      { fromAccount: 'bi3-ovh', validators: ['bi3-ovh', 'ne4-ovh'], informed: [] },
    ]);
  });

  test('one task per distinct (from, to) pair', () => {
    const shared = { ...service, contactTech: 'ad1-ovh' };
    const tasks = planContactChange({
      asker: 'ad1-ovh',
      service: shared,
      changes: { contactAdmin: 'ne4-ovh', contactTech: 'ne4-ovh' },
      accounts,
      openTasks: [],
    });
    expect(tasks).toHaveLength(1);
    expect(tasks[0].contactTypes).toEqual(['contactAdmin', 'contactTech']);
  });

  test.each([
    ['tech asks for a billing change', 'te2-ovh', { contactBilling: 'ne4-ovh' }, 'roleNotAllowed'],
    ['tech asks for an admin change', 'te2-ovh', { contactAdmin: 'ne4-ovh' }, 'roleNotAllowed'],
    ['billing asks for a tech change', 'bi3-ovh', { contactTech: 'ne4-ovh' }, 'roleNotAllowed'],
    ['someone who is not a contact', 'ot5-ovh', { contactTech: 'ne4-ovh' }, 'notAContact'],
    ['an unknown new contact', 'ad1-ovh', { contactTech: 'zz9-ovh' }, 'contactNotEligible'],
    ['the new contact is the holder', 'ad1-ovh', { contactTech: 'te2-ovh' }, 'sameAsCurrent'],
    ['a new billing contact in arrears', 'ad1-ovh', { contactBilling: 'ar6-ovh' }, 'contactNotEligible'],
    ['an unknown new billing contact', 'ad1-ovh', { contactBilling: 'zz9-ovh' }, 'contactNotEligible'],
    ['nothing to change', 'ad1-ovh', {}, 'nothingToChange'],
  ] as const)('refuses %s', (_name, asker, changes, reason) => {
    expect(refusal(() => plan(asker, changes))).toBe(reason);
  });

  test('refuses a billing change when the old billing contact is in arrears, naming arrears to that contact only', () => {
    const arrears = { ...service, contactBilling: 'ar6-ovh' };
    const asked = (asker: string) =>
      refusal(() =>
        planContactChange({
          asker,
          service: arrears,
          changes: { contactBilling: 'ne4-ovh' },
          accounts,
          openTasks: [],
        }),
      );
    expect(asked('ad1-ovh')).toBe('contactNotEligible');
    expect(asked('ar6-ovh')).toBe('billingInArrears');
  });

  const openTech: OpenTaskOnRole = {
    role: 'contactTech',
    taskId: 7,
    askingAccount: 'ad1-ovh',
    fromAccount: 'te2-ovh',
    toAccount: 'ne4-ovh',
    contactTypes: ['contactTech'],
  };

  test('refuses a second task for a role that already has an open task', () => {
    expect(refusal(() => plan('ad1-ovh', { contactTech: 'ot5-ovh' }, { openTasks: [openTech] }))).toBe(
      'taskAlreadyOpen',
    );
    expect(refusal(() => plan('te2-ovh', { contactTech: 'ne4-ovh' }, { openTasks: [openTech] }))).toBe(
      'taskAlreadyOpen',
    );
  });

  test('the same request again answers the open task instead of creating another', () => {
    expect(plan('ad1-ovh', { contactTech: 'ne4-ovh' }, { openTasks: [openTech] })).toMatchObject([
      { existingTaskId: 7 },
    ]);
  });
});

describe('the same rules again at apply time', () => {
  const techChange = {
    askingAccount: 'ad1-ovh',
    fromAccount: 'te2-ovh',
    toAccount: 'ne4-ovh',
    contactTypes: ['contactTech' as const],
    service,
    accounts,
  };

  test('a change whose rules still hold is applied', () => {
    expect(recheckAtApply(techChange)).toBeUndefined();
    expect(recheckAtApply({ ...techChange, askingAccount: 'te2-ovh' })).toBeUndefined();
  });

  test('an asker who is no longer the admin may no longer ask the change', () => {
    const handedOver = { ...service, contactAdmin: 'ot5-ovh' };
    expect(recheckAtApply({ ...techChange, service: handedOver })).toBe('askerNoLongerEntitled');
  });

  test('a role that changed hands, a vanished account, or billing in arrears refuse the change', () => {
    expect(recheckAtApply({ ...techChange, service: { ...service, contactTech: 'ot5-ovh' } })).toBe(
      'roleNoLongerHeld',
    );
    expect(recheckAtApply({ ...techChange, toAccount: 'gone-ovh' })).toBe('unknownAccount');
    const billingChange = {
      ...techChange,
      fromAccount: 'bi3-ovh',
      contactTypes: ['contactBilling' as const],
    };
    expect(recheckAtApply({ ...billingChange, toAccount: 'ar6-ovh' })).toBe('billingInArrears');
  });
});
