import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import { Webhook } from 'standardwebhooks';
import { createLogger } from '../../lib/logger';
import { createWorkerMetrics } from '../../lib/metrics';
import { createWebhookWorker, startWebhookDispatcher } from '../../worker/webhooks';
import { readCodeEmail } from '../../lib/mailbox';
import { createAccounts, createService } from '../helpers/fixtures';
import { askTechChange, codeFor, endedTask, login, type Session } from '../helpers/http';
import { sample } from '../helpers/prometheus';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const NEWBIE = 'ne44444-ovh';
const OTHER = 'ot55555-ovh';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on loopback, as a customer would run one: it keeps what it is sent, and can be taken down. */
class Receiver {
  received: Received[] = [];
  private readonly arrivals = new EventEmitter();
  private server?: Server;
  port = 0;

  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body });
        res.writeHead(204).end();
        this.arrivals.emit('delivery');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /**
   * The events that verify with the secret, by the published Standard Webhooks library, in the order of the events.
   * Each delivery is its own workflow, so they may arrive in any order (the last acceptance and the task's end are
   * even written in one transaction); the webhook-id carries the event's order (msg_<audit event id>_<subscription>).
   */
  verifiedWith(secret: string) {
    const eventOrder = (r: Received) => Number(/^msg_(\d+)_/.exec(String(r.headers['webhook-id']))![1]);
    return [...this.received]
      .sort((a, b) => eventOrder(a) - eventOrder(b))
      .map((r) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>)) as {
      type: string;
      data: { taskId: number; actor: string; serviceName: string };
    }[];
  }

  /** Resolves once `count` deliveries have arrived (since `received` was last emptied). */
  async waitFor(count: number, timeoutMs = 30_000) {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      while (this.received.length < count) await once(this.arrivals, 'delivery', { signal });
    } catch {
      throw new Error(`received ${this.received.length} of ${count} deliveries within ${timeoutMs} ms`);
    }
  }
}

let stack: Stack;
let webhookWorker: Worker;
let workerRunning: Promise<void>;
let dispatcher: ReturnType<typeof startWebhookDispatcher>;
const receiver = new Receiver();
const workerMetrics = createWorkerMetrics();

beforeAll(async () => {
  stack = await startStack({
    env: {
      WEBHOOK_RETRY_INITIAL: '300ms',
      WEBHOOK_RETRY_MAX: '1s',
      WEBHOOK_TIMEOUT: '2s',
      WEBHOOK_GIVE_UP_AFTER: '6s',
      WEBHOOK_DISPATCH_INTERVAL: '100ms',
      // The receiver runs on this host: loopback is allowed here only (test/security/webhook-targets-are-public).
      WEBHOOK_ALLOWED_TARGETS: '127.0.0.1/32',
    },
  });
  webhookWorker = await createWebhookWorker({
    connection: stack.env.nativeConnection,
    namespace: 'default',
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    db: stack.database.db,
    config: stack.config,
    metrics: workerMetrics,
  });
  workerRunning = webhookWorker.run();
  dispatcher = startWebhookDispatcher({
    db: stack.database.db,
    client: stack.env.client,
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    config: stack.config,
    logger: createLogger('silent'),
  });
  await receiver.start();
  await createAccounts(stack.database.db, [
    { handle: ADMIN },
    { handle: TECH },
    { handle: NEWBIE },
    { handle: OTHER },
  ]);
  for (const name of [
    'story.example',
    'downtime.example',
    'rotation.example',
    'dead.example',
    'handed.example',
  ]) {
    await createService(stack.database.db, { name, admin: ADMIN, tech: TECH, billing: ADMIN });
  }
}, 120_000);
afterAll(async () => {
  await dispatcher?.stop();
  webhookWorker?.shutdown();
  await workerRunning;
  await receiver.stop();
  await stack?.teardown();
});

/** The subscriptions a test made and has not removed: removed after it, also when it failed, so that their
 * deliveries do not reach the next tests. */
const subscribed = new Map<number, Session>();
afterEach(async () => {
  for (const [id, session] of subscribed) await unsubscribe(session, id);
});

async function subscribe(session: Session, url: string, events?: string[]) {
  const hook = (await session.post('/1.0/me/contactChange/webhook', { url, events }).expect(200)).body as {
    id: number;
    secret: string;
  };
  subscribed.set(hook.id, session);
  return hook;
}

async function unsubscribe(session: Session, id: number) {
  await session.agent
    .delete(`/1.0/me/contactChange/webhook/${id}`)
    .set('X-CSRF-Token', session.csrf)
    .expect(204);
  subscribed.delete(id);
}

async function deliveriesOf(session: Session, id: number) {
  return (await session.get(`/1.0/me/contactChange/webhook/${id}/delivery`).expect(200)).body as {
    eventType: string;
    state: string;
    attempts: { statusCode?: number; error?: string }[];
  }[];
}

test('a story posts signed events to the subscriber, verified with the Standard Webhooks library, with no code in them', async () => {
  const admin = await login(stack, ADMIN);
  const newbie = await login(stack, NEWBIE);
  const hook = await subscribe(admin, receiver.url);
  expect(hook.secret).toMatch(/^whsec_/);
  receiver.received = [];

  const id = await askTechChange(admin, 'story.example', NEWBIE);
  const codes = [await codeFor(stack, ADMIN, id), await codeFor(stack, NEWBIE, id)];
  await admin.post(`/1.0/me/task/contactChange/${id}/accept`, { token: codes[0] }).expect(200);
  await newbie.post(`/1.0/me/task/contactChange/${id}/accept`, { token: codes[1] }).expect(200);
  expect((await endedTask(stack, admin, id)).state).toBe('done');
  await receiver.waitFor(4);

  const events = receiver.verifiedWith(hook.secret);
  expect(events.map((e) => [e.type, e.data.actor])).toEqual([
    ['contactChange.created', ADMIN],
    ['contactChange.accepted', ADMIN],
    ['contactChange.accepted', NEWBIE],
    ['contactChange.done', 'system'],
  ]);
  expect(events.every((e) => e.data.taskId === id && e.data.serviceName === 'story.example')).toBe(true);
  for (const { body } of receiver.received) for (const code of codes) expect(body).not.toContain(code);
  expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(4);
  expect(() =>
    new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(
      receiver.received[0].body,
      receiver.received[0].headers as Record<string, string>,
    ),
  ).toThrow();

  // The receiver has the last request before the delivery's activity writes its outcome to the log.
  await eventually('four deliveries logged as delivered', async () => {
    const log = await deliveriesOf(admin, hook.id);
    expect(log.map((d) => d.state)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(log.every((d) => d.attempts.length === 1 && d.attempts[0].statusCode === 204)).toBe(true);
  });
  await unsubscribe(admin, hook.id);
});

test('while the receiver is down the delivery is retried with backoff, and succeeds once it is back', async () => {
  const admin = await login(stack, ADMIN);
  const hook = await subscribe(admin, receiver.url, ['contactChange.created']);
  await receiver.stop();
  receiver.received = [];
  try {
    await askTechChange(admin, 'downtime.example', NEWBIE);
    // The delivery's activity writes each attempt to the log: no event announces it.
    await eventually(
      'two failed attempts in the delivery log',
      async () => {
        const [delivery] = await deliveriesOf(admin, hook.id);
        expect(delivery?.attempts.length).toBeGreaterThanOrEqual(2);
      },
      30_000,
    );
  } finally {
    await receiver.start(); // also when this failed: the other tests need the receiver
  }
  try {
    await receiver.waitFor(1);
    expect(receiver.verifiedWith(hook.secret).map((e) => e.type)).toEqual(['contactChange.created']);
    // The receiver has the request before the delivery's activity writes its outcome to the log.
    await eventually('the delivery logged as delivered', async () => {
      const [delivery] = await deliveriesOf(admin, hook.id);
      expect(delivery.state).toBe('delivered');
      expect(delivery.attempts.at(-1)!.statusCode).toBe(204);
      expect(delivery.attempts[0].error).toMatch(/ECONNREFUSED|fetch failed/);
    });
  } finally {
    await unsubscribe(admin, hook.id); // also when this failed: its deliveries would reach the next tests
  }
});

test('after a secret rotation both the old and the new secret verify during the overlap', async () => {
  const admin = await login(stack, ADMIN);
  const hook = await subscribe(admin, receiver.url, ['contactChange.created']);
  const rotated = (await admin.post(`/1.0/me/contactChange/webhook/${hook.id}/rotateSecret`).expect(200))
    .body;
  expect(rotated.secret).not.toBe(hook.secret);
  expect(rotated.previousSecretValidUntil).toBeDefined();
  receiver.received = [];
  await askTechChange(admin, 'rotation.example', NEWBIE);
  await receiver.waitFor(1);
  expect(receiver.verifiedWith(hook.secret)[0].type).toBe('contactChange.created');
  expect(receiver.verifiedWith(rotated.secret)[0].type).toBe('contactChange.created');
  await unsubscribe(admin, hook.id);
});

test('a receiver that never answers is given up after WEBHOOK_GIVE_UP_AFTER; subscriptions are private and checked', async () => {
  const admin = await login(stack, ADMIN);
  const other = await login(stack, OTHER);
  const dead = await subscribe(admin, 'http://127.0.0.1:9/never', ['contactChange.created']);
  await askTechChange(admin, 'dead.example', NEWBIE);
  const [delivery] = await eventually(
    'the delivery given up',
    async () => {
      const log = await deliveriesOf(admin, dead.id);
      expect(log[0]?.state).toBe('givenUp');
      return log;
    },
    30_000,
  );
  expect(delivery.attempts.length).toBeGreaterThanOrEqual(3);
  expect((await other.get(`/1.0/me/contactChange/webhook/${dead.id}`)).status).toBe(404);
  expect((await other.get('/1.0/me/contactChange/webhook').expect(200)).body).toEqual([]);
  const bad = await admin.post('/1.0/me/contactChange/webhook', { url: 'ftp://example.net/x' });
  expect([bad.status, bad.body.reason]).toEqual([400, 'invalidInput']);
  const unknownEvent = await admin.post('/1.0/me/contactChange/webhook', {
    url: receiver.url,
    events: ['nope'],
  });
  expect(unknownEvent.status).toBe(400);
  await admin.put(`/1.0/me/contactChange/webhook/${dead.id}`, { enabled: false }).expect(200);
  expect((await admin.get(`/1.0/me/contactChange/webhook/${dead.id}`).expect(200)).body.enabled).toBe(false);
});

test("the worker's metrics count the attempts delivered and failed, and the delivery given up", async () => {
  // After the tests above: 4 + 1 + 1 deliveries, at least 2 failed attempts while the receiver was down and 3 to
  // the receiver that never answers, which was given up.
  const text = await workerMetrics.register.metrics();
  expect(sample(text, 'contacts_webhook_delivery_attempts_total', 'outcome="delivered"')).toBe(6);
  expect(sample(text, 'contacts_webhook_delivery_attempts_total', 'outcome="failed"')).toBeGreaterThanOrEqual(
    5,
  );
  expect(sample(text, 'contacts_webhook_deliveries_given_up_total')).toBe(1);
});

// After the metrics test, whose counts it would change.
test("a move's own events reach its subscribers: created, each acceptance, its progress and its end, with counts", async () => {
  const admin = await login(stack, ADMIN);
  const newbie = await login(stack, NEWBIE);
  for (const name of ['move-one.example', 'move-two.example']) {
    await createService(stack.database.db, { name, admin: ADMIN, tech: TECH, billing: ADMIN });
  }
  const moveEvents = [
    'contactMove.created',
    'contactMove.accepted',
    'contactMove.progress',
    'contactMove.done',
  ];
  const hook = await subscribe(newbie, receiver.url, moveEvents);
  receiver.received = [];

  const { body: move } = await admin
    .post('/1.0/me/contactMove', {
      fromAccount: TECH,
      toAccount: NEWBIE,
      contactTypes: ['tech'],
      services: ['move-one.example', 'move-two.example'],
    })
    .expect(201);
  const codeOf = (handle: string) =>
    stack.mailbox
      .waitFor(
        (m) => m.to.includes(`${handle}@mail.test`) && m.text.includes(`/validate-move/${move.id}#code=`),
      )
      .then(readCodeEmail);
  const codes = [(await codeOf(ADMIN)).code, (await codeOf(NEWBIE)).code];
  await admin.post(`/1.0/me/contactMove/${move.id}/accept`, { token: codes[0] }).expect(200);
  await newbie.post(`/1.0/me/contactMove/${move.id}/accept`, { token: codes[1] }).expect(200);
  await receiver.waitFor(5);

  const events = receiver.verifiedWith(hook.secret) as unknown as {
    type: string;
    data: { moveId: number; actor: string; counts?: { applied?: number } };
  }[];
  expect(events.map((e) => [e.type, e.data.actor])).toEqual([
    ['contactMove.created', ADMIN],
    ['contactMove.accepted', ADMIN],
    ['contactMove.accepted', NEWBIE],
    ['contactMove.progress', 'system'],
    ['contactMove.done', 'system'],
  ]);
  expect(events.every((e) => e.data.moveId === move.id)).toBe(true);
  expect(events.at(-1)!.data.counts).toMatchObject({ applied: 2 });
  for (const { body } of receiver.received) for (const code of codes) expect(body).not.toContain(code);
  await unsubscribe(newbie, hook.id);
});

test("the service's admin as it is now gets the events of a task asked before they became admin", async () => {
  const admin = await login(stack, ADMIN);
  const id = await askTechChange(admin, 'handed.example', NEWBIE);
  // The admin role passes to OTHER by another way than this task (as support would do it).
  const other = await stack.database.db.account.findUniqueOrThrow({ where: { handle: OTHER } });
  await stack.database.db.service.update({ where: { name: 'handed.example' }, data: { adminId: other.id } });
  const newAdmin = await login(stack, OTHER);
  const hook = await subscribe(newAdmin, receiver.url, ['contactChange.aborted']);
  receiver.received = [];

  await newAdmin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
  await receiver.waitFor(1);
  expect(receiver.verifiedWith(hook.secret).map((e) => [e.type, e.data.taskId, e.data.actor])).toEqual([
    ['contactChange.aborted', id, OTHER],
  ]);
  await unsubscribe(newAdmin, hook.id);
});
