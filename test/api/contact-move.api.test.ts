import { contactsOf, createAccounts, createService } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const BILLING = 'bi33333-ovh';
const NEWBIE = 'ne44444-ovh';
const STRANGER = 'st55555-ovh';
const MAX = 8;

beforeAll(async () => {
  stack = await startStack({ env: { MOVE_MAX_SERVICES: String(MAX) } });
  const db = stack.database.db;
  await createAccounts(db, [
    { handle: ADMIN, language: 'es' },
    { handle: TECH, language: 'fr' },
    { handle: BILLING },
    { handle: NEWBIE },
    { handle: STRANGER },
  ]);
  const mine = { admin: ADMIN, tech: TECH, billing: BILLING };
  for (const name of ['a.example', 'b.example', 'busy.example']) await createService(db, { name, ...mine });
  await createService(db, { name: 'shop-one.example', type: 'hosting/web', ...mine });
  await createService(db, { name: 'shop-two.example', type: 'hosting/web', ...mine });
  await createService(db, { name: 'site.example', type: 'hosting/web', ...mine });
  await createService(db, { name: 'toaster.example', type: 'toaster', ...mine });
  await createService(db, { name: 'notech.example', ...mine, tech: BILLING });
  await createService(db, { name: 'theirs.example', ...mine, admin: STRANGER });
});
afterAll(async () => {
  await stack?.teardown();
});

const techMove = (selection: object) => ({
  fromAccount: TECH,
  toAccount: NEWBIE,
  contactTypes: ['tech'],
  dryRun: true,
  ...selection,
});

describe('dry run', () => {
  test('answers per service whether it moves and why not, who validates and who is told; creates nothing', async () => {
    const admin = await login(stack, ADMIN);
    await admin.post('/1.0/domain/busy.example/changeContact', { contactTech: STRANGER }).expect(200);
    const services = [
      'a.example',
      'b.example',
      'busy.example',
      'toaster.example',
      'notech.example',
      'theirs.example',
      'nowhere.example',
    ];
    const before = await stack.database.db.contactChangeTask.count();
    const { body } = await admin.post('/1.0/me/contactMove', techMove({ services })).expect(200);
    expect(body).toMatchObject({
      dryRun: true,
      total: 7,
      movable: 2,
      byReason: { taskAlreadyOpen: 1, serviceTypeNotAllowed: 1, roleNotHeld: 1, notAContact: 2 },
      validators: [
        { handle: ADMIN, items: 2 },
        { handle: NEWBIE, items: 2 },
      ],
      informed: [TECH],
    });
    const byName = Object.fromEntries(
      body.items.map((item: { serviceName: string }) => [item.serviceName, item]),
    );
    expect(byName['a.example']).toEqual({
      serviceName: 'a.example',
      serviceType: 'domain',
      contactTypes: ['contactTech'],
      movable: true,
      validators: [ADMIN, NEWBIE],
      informed: [TECH],
    });
    expect(byName['busy.example']).toMatchObject({ movable: false, reason: 'taskAlreadyOpen' });
    // Someone else's service answers as one that does not exist: no type.
    expect(byName['theirs.example']).not.toHaveProperty('serviceType');
    expect(byName['nowhere.example']).toMatchObject({ movable: false, reason: 'notAContact' });
    expect(await stack.database.db.contactChangeTask.count()).toBe(before);
    expect(await contactsOf(stack.database.db, 'a.example')).toMatchObject({ tech: TECH });
  });

  test('a filter selects the services where fromAccount holds the role, narrowed by type and name', async () => {
    const admin = await login(stack, ADMIN);
    const { body } = await admin
      .post('/1.0/me/contactMove', techMove({ filter: { serviceType: 'hosting/web', nameContains: 'SHOP' } }))
      .expect(200);
    expect(body.items.map((item: { serviceName: string }) => item.serviceName)).toEqual([
      'shop-one.example',
      'shop-two.example',
    ]);
    // Unnarrowed: every service where the tech holds the role and the asker is a contact (theirs.example is not
    // the admin's business, notech.example has another tech).
    const all = (await admin.post('/1.0/me/contactMove', techMove({ filter: {} })).expect(200)).body;
    expect(all.total).toBe(7);
    expect(all.items.map((item: { serviceName: string }) => item.serviceName)).not.toContain(
      'theirs.example',
    );
  });

  test('a tech may move only its own role; the admin role of a service is not its to give', async () => {
    const tech = await login(stack, TECH);
    const { body } = await tech
      .post('/1.0/me/contactMove', {
        ...techMove({ services: ['a.example'] }),
        fromAccount: ADMIN,
        contactTypes: ['admin'],
      })
      .expect(200);
    expect(body.byReason).toEqual({ roleNotAllowed: 1 });
  });

  test('limits and bad input answer a clear 400', async () => {
    const admin = await login(stack, ADMIN);
    const many = Array.from({ length: MAX + 1 }, (_, i) => `s${i}.example`);
    const tooMany = await admin.post('/1.0/me/contactMove', techMove({ services: many })).expect(400);
    expect(tooMany.body).toMatchObject({ reason: 'tooManyServices', maxServices: MAX });
    const both = await admin
      .post('/1.0/me/contactMove', techMove({ services: ['a.example'], filter: {} }))
      .expect(400);
    expect(both.body.reason).toBe('invalidInput');
    const noRole = await admin
      .post('/1.0/me/contactMove', techMove({ services: ['a.example'], contactTypes: ['owner'] }))
      .expect(400);
    expect(noRole.body.reason).toBe('invalidInput');
  });
});
