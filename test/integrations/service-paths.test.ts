import request from 'supertest';
import { SERVICE_TYPES } from '../../domain/service-types';
import { createAccounts, createService } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const NEWBIE = 'ne44444-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: TECH }, { handle: NEWBIE }]);
  for (const { type } of SERVICE_TYPES) {
    await createService(stack.database.db, {
      name: `${type.replace(/\//g, '-')}.example`,
      type,
      admin: ADMIN,
      tech: TECH,
      billing: ADMIN,
    });
  }
});
afterAll(async () => {
  await stack?.teardown();
});

test("every service family answers at the provider's own paths, for its own services only", async () => {
  const admin = await login(stack, ADMIN);
  for (const { type, serviceInfos } of SERVICE_TYPES) {
    const name = `${type.replace(/\//g, '-')}.example`;
    if (serviceInfos) {
      const infos = (await admin.get(`/1.0/${type}/${name}/serviceInfos`).expect(200)).body;
      expect(infos).toMatchObject({ serviceName: name, serviceType: type, contactTech: TECH });
    } else {
      expect((await admin.get(`/1.0/${type}/${name}/serviceInfos`)).body.reason).toBe('routeNotFound');
    }
    const ids = (await admin.post(`/1.0/${type}/${name}/changeContact`, { contactTech: NEWBIE }).expect(200))
      .body;
    expect(ids).toHaveLength(1);
    const task = (await admin.get(`/1.0/me/task/contactChange/${ids[0]}`).expect(200)).body;
    expect(task).toMatchObject({ serviceType: type, toAccount: NEWBIE });
  }
}, 240_000);

test('a service asked for under another family, or an unknown family, is not found and opens nothing', async () => {
  const admin = await login(stack, ADMIN);
  const before = await stack.database.db.contactChangeTask.count();
  const wrongFamily = await admin.post('/1.0/hosting/web/dedicated-server.example/changeContact', {
    contactAdmin: NEWBIE,
  });
  expect([wrongFamily.status, wrongFamily.body.reason]).toEqual([404, 'notFound']);
  const unknown = await admin.post('/1.0/hosting/unknown/vps.example/changeContact', {
    contactAdmin: NEWBIE,
  });
  expect(unknown.status).toBe(404);
  expect((await admin.get('/1.0/dedicated/vps.example/serviceInfos')).status).toBe(404);
  expect(await stack.database.db.contactChangeTask.count()).toBe(before);
});

test('the OpenAPI document lists each family path with the parameter name the provider gives it', async () => {
  const doc = (await request(stack.app).get('/1.0/openapi.json').expect(200)).body;
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/hosting/web/{serviceName}/changeContact',
      '/dedicated/server/{serviceName}/serviceInfos',
      '/email/domain/{domain}/changeContact',
      '/telephony/{billingAccount}/changeContact',
      '/domain/{serviceName}/changeContact',
    ]),
  );
  expect(doc.paths['/msServices/{serviceName}/serviceInfos']).toBeUndefined();
});
