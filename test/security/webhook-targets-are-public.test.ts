import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import { createLogger } from '../../lib/logger';
import { createWebhookWorker, startWebhookDispatcher } from '../../worker/webhooks';
import { createAccounts, createService } from '../helpers/fixtures';
import { login, type Session } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

// Webhooks (SSRF): a customer's subscription must not make the worker post to the loopback, the private network
// or a cloud metadata service, neither when subscribed nor later, when its name resolves elsewhere (DNS rebinding).
// No WEBHOOK_ALLOWED_TARGETS here: the defaults.
const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const NEWBIE = 'ne33333-ovh';
const HOOKS = '/1.0/me/contactChange/webhook';
let stack: Stack;
let webhookWorker: Worker;
let workerRunning: Promise<void>;
let dispatcher: ReturnType<typeof startWebhookDispatcher>;
let receiver: Server;
let received = 0;
let port = 0;

beforeAll(async () => {
  stack = await startStack({
    env: { WEBHOOK_RETRY_INITIAL: '200ms', WEBHOOK_GIVE_UP_AFTER: '20s', WEBHOOK_DISPATCH_INTERVAL: '100ms' },
  });
  webhookWorker = await createWebhookWorker({
    connection: stack.env.nativeConnection,
    namespace: 'default',
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    db: stack.database.db,
    config: stack.config,
  });
  workerRunning = webhookWorker.run();
  dispatcher = startWebhookDispatcher({
    db: stack.database.db,
    client: stack.env.client,
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    config: stack.config,
    logger: createLogger('silent'),
  });
  receiver = createServer((_req, res) => {
    received++;
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
  await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: TECH }, { handle: NEWBIE }]);
  await createService(stack.database.db, {
    name: 'rebind.example',
    admin: ADMIN,
    tech: TECH,
    billing: ADMIN,
  });
}, 120_000);
afterAll(async () => {
  await dispatcher?.stop();
  webhookWorker?.shutdown();
  await workerRunning;
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await stack?.teardown();
});

test('a subscription to a loopback, private, link-local, multicast or metadata address is refused, however written', async () => {
  const admin = await login(stack, ADMIN);
  const refused = [
    `http://127.0.0.1:${port}/hooks`,
    `http://localhost:${port}/hooks`,
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://0.0.0.0/',
    'http://10.0.0.5/',
    'http://192.168.1.1/',
    'http://172.16.3.4/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/',
    'http://[fe80::1]/',
    'http://224.0.0.1/',
    'http://no-such-host.invalid/',
  ];
  for (const url of refused) {
    const answer = await admin.post(HOOKS, { url });
    expect({ url, status: answer.status, reason: answer.body.reason }).toEqual({
      url,
      status: 422,
      reason: 'webhookTargetRefused',
    });
  }
  expect(await stack.database.db.webhookSubscription.count()).toBe(0);

  // A public address is taken; moving it to a forbidden one afterwards is refused the same way.
  const { id } = (await admin.post(HOOKS, { url: 'https://93.184.215.14/hooks', events: [] }).expect(200))
    .body;
  const moved = await admin.put(`${HOOKS}/${id}`, { url: `http://127.0.0.1:${port}/hooks` }).expect(422);
  expect(moved.body.message).toContain('127.0.0.1 is not a public address (loopback)');
  expect((await admin.get(`${HOOKS}/${id}`).expect(200)).body.url).toBe('https://93.184.215.14/hooks');
  await admin.agent.delete(`${HOOKS}/${id}`).set('X-CSRF-Token', admin.csrf).expect(204);
});

async function ask(admin: Session): Promise<number> {
  return (await admin.post('/1.0/domain/rebind.example/changeContact', { contactTech: NEWBIE }).expect(200))
    .body[0];
}

test('a name that resolves to loopback at delivery is refused then, and the delivery given up at once', async () => {
  const admin = await login(stack, ADMIN);
  const account = await stack.database.db.account.findUniqueOrThrow({ where: { handle: ADMIN } });
  // Subscribed when the names pointed at public addresses (the API would refuse them now): a name re-pointed at
  // loopback, and the address itself, stand for what the worker finds when it delivers.
  const hooks = await Promise.all(
    [`http://localhost:${port}/hooks`, `http://127.0.0.1:${port}/hooks`].map((url) =>
      stack.database.db.webhookSubscription.create({
        data: {
          accountId: account.id,
          url,
          events: ['contactChange.created'],
          secret: `whsec_${'A'.repeat(43)}=`,
        },
      }),
    ),
  );
  const id = await ask(admin);
  for (const hook of hooks) {
    const given = await eventually(
      `the delivery to ${hook.url} to end`,
      async () => {
        const [delivery] = (await admin.get(`${HOOKS}/${hook.id}/delivery`).expect(200)).body;
        expect(delivery?.state).toBe('givenUp');
        return delivery;
      },
      30_000,
    );
    expect(given).toMatchObject({ state: 'givenUp' });
    expect(given.attempts).toHaveLength(1);
    expect(given.attempts[0].error).toMatch(
      /127\.0\.0\.1 is not a public address \(loopback\)|::1 is not a public address/,
    );
  }
  expect(received).toBe(0);
  await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
});
