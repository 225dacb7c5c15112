import request from 'supertest';
import { createAccounts, createService } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

/** Finding 8: a NUL byte in the path, the query or the body answered 500. */
let stack: Stack;
const USER = 'us11111-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: USER }]);
  await createService(stack.database.db, { name: 'x.example', admin: USER, tech: USER, billing: USER });
});
afterAll(async () => {
  await stack?.teardown();
});

test.each([
  ['GET', '/1.0/domain/x%00/serviceInfos', undefined],
  ['GET', '/1.0/me/contactManagement/services?cursor=%00', undefined],
  ['GET', '/1.0/me/contactManagement/services?name=a%01b', undefined],
  ['GET', '/1.0/domain/x%C0%AF.example/serviceInfos', undefined],
  ['GET', '/1.0/me/contactManagement/services?name=%FF', undefined],
  ['PUT', '/1.0/me', '{"language":"a\\u0000b"}'],
  ['POST', '/1.0/domain/x.example/changeContact', '{"contactTech":"ab1-ovh\\u0007"}'],
  ['POST', '/1.0/domain/x.example/changeContact', '{"contactTech":"\\ud800"}'],
  ['POST', '/1.0/me/api/application', '{"name":"a\\u0000b"}'],
])('%s %s %s is a 400 invalidText', async (method, path, body) => {
  const session = await login(stack, USER);
  let req =
    method === 'GET' ? session.agent.get(path) : session.agent[method === 'PUT' ? 'put' : 'post'](path);
  req = req.set('X-CSRF-Token', session.csrf);
  if (body) req = req.set('Content-Type', 'application/json').send(body);
  const answer = await req;
  expect({ status: answer.status, reason: answer.body.reason }).toEqual({
    status: 400,
    reason: 'invalidText',
  });
  expect(answer.body.message).toMatch(/control character or is not valid UTF-8/);
});

test('a body that is not UTF-8 is refused, not silently repaired', async () => {
  const session = await login(stack, USER);
  const answer = await session.agent
    .put('/1.0/me')
    .set('X-CSRF-Token', session.csrf)
    .set('Content-Type', 'application/json')
    .serialize((raw: unknown) => raw as string)
    .send(
      Buffer.from([
        0x7b, 0x22, 0x6c, 0x61, 0x6e, 0x67, 0x75, 0x61, 0x67, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d,
      ]),
    );
  expect(answer.status).toBe(400);
  expect(answer.body.reason).toBe('invalidText');
  await request(stack.app)
    .post('/auth/login')
    .send({ handle: 'us11111-ovh\u0000', password: 'x' })
    .expect(400);
});
