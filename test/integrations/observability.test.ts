import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import request from 'supertest';
import { createApp } from '../../api/app';
import { fromInside } from '../../api/observability';
import { createLogger } from '../../lib/logger';
import { readCodeEmail } from '../../lib/mailbox';
import { createApiMetrics, createWorkerMetrics, metricsText } from '../../lib/metrics';
import { freePort } from '../../lib/net';
import { startTracing, tracingClientInterceptors, type Tracing } from '../../lib/tracing';
import { createAccounts, createService, PASSWORD } from '../helpers/fixtures';
import { startStack, type Stack } from '../helpers/stack';
import { quietTemporalLogs } from '../helpers/temporal';

const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const NEWBIE = 'ne44444-ovh';

let stack: Stack;
let sdkMetricsUrl: string;
let tracing: Tracing;
const spans = new InMemorySpanExporter();
const workerMetrics = createWorkerMetrics();
const apiMetrics = createApiMetrics();
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  const sdkPort = await freePort();
  sdkMetricsUrl = `http://127.0.0.1:${sdkPort}/metrics`;
  quietTemporalLogs(`127.0.0.1:${sdkPort}`);
  tracing = startTracing('contacts-test', {}, spans)!;
  stack = await startStack({ workerMetrics, tracing });
  // The API as api/server.ts builds it: metrics, a span per request, a Temporal client carrying the trace.
  const temporal = new Client({
    connection: stack.env.client.connection,
    interceptors: tracingClientInterceptors(tracing),
  });
  app = createApp({
    db: stack.database.db,
    temporal,
    config: stack.config,
    logger: createLogger('silent'),
    metrics: apiMetrics,
    tracing: true,
  });
  await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: TECH }, { handle: NEWBIE }]);
  await createService(stack.database.db, {
    name: 'metrics.example',
    admin: ADMIN,
    tech: TECH,
    billing: ADMIN,
  });
}, 120_000);
afterAll(async () => {
  await stack?.teardown();
  await tracing?.shutdown();
});

async function loginAs(handle: string) {
  const agent = request.agent(app);
  const { csrfToken } = (await agent.post('/auth/login').send({ handle, password: PASSWORD }).expect(200))
    .body;
  return (path: string, body: object = {}) => agent.post(path).set('X-CSRF-Token', csrfToken).send(body);
}

const codeFor = (handle: string, taskId: number) =>
  stack.mailbox
    .waitFor((m) => m.to.includes(`${handle}@mail.test`) && m.text.includes(`/validate/${taskId}#code=`))
    .then((mail) => readCodeEmail(mail).code);

/** One sample's value from Prometheus text ("name{labels} value"), by name and a label fragment. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) => (l.startsWith(`${name}{`) && l.includes(labels)) || (labels === '' && l.startsWith(`${name} `)),
    );
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

test('after a story, /metrics of the API and the worker count it, and one trace runs from the request to the activities', async () => {
  const admin = await loginAs(ADMIN);
  const newbie = await loginAs(NEWBIE);
  const asked = await admin('/1.0/domain/metrics.example/changeContact', { contactTech: NEWBIE })
    .set('X-Request-Id', 'story-request-1')
    .expect(200);
  const id = asked.body[0] as number;
  await newbie(`/1.0/me/task/contactChange/${id}/accept`, { token: 'WRONGCODE9' }).expect(403);
  await admin(`/1.0/me/task/contactChange/${id}/accept`, { token: await codeFor(ADMIN, id) }).expect(200);
  await newbie(`/1.0/me/task/contactChange/${id}/accept`, { token: await codeFor(NEWBIE, id) }).expect(200);
  await stack.taskEnded(id); // the run ends after its end mails are out
  expect(await stack.database.db.contactChangeTask.findUniqueOrThrow({ where: { id } })).toMatchObject({
    state: 'done',
  });
  expect(await stack.database.db.sentEmail.count({ where: { taskId: id } })).toBeGreaterThanOrEqual(5);

  const api = (await request(app).get('/metrics').expect(200)).text;
  expect(
    sample(
      api,
      'contacts_http_requests_total',
      'route="/1.0/domain/:serviceName/changeContact",status="200"',
    ),
  ).toBe(1);
  expect(
    sample(api, 'contacts_http_requests_total', 'route="/1.0/me/task/contactChange/:id/accept",status="403"'),
  ).toBe(1);
  expect(api).toMatch(
    /contacts_http_request_duration_seconds_bucket\{le="\+Inf",[^}]*route="\/1.0\/domain\/:serviceName\/changeContact"[^}]*\} 1/,
  );
  expect(api).toContain('# TYPE contacts_process_cpu_seconds_total counter');

  const worker = await metricsText(workerMetrics.register, sdkMetricsUrl);
  expect(sample(worker, 'contacts_tasks_opened_total')).toBe(1);
  expect(sample(worker, 'contacts_tasks_ended_total', 'state="done"')).toBe(1);
  expect(sample(worker, 'contacts_task_time_to_last_acceptance_seconds_count')).toBe(1);
  expect(sample(worker, 'contacts_task_time_to_applied_seconds_count')).toBe(1);
  expect(sample(worker, 'contacts_code_rejections_total', 'outcome="wrongCode"')).toBe(1);
  expect(sample(worker, 'contacts_mails_sent_total')).toBeGreaterThanOrEqual(5);
  expect(sample(worker, 'contacts_mails_failed_total')).toBe(0);
  // The Temporal SDK's own worker metrics, merged into the same scrape.
  expect(worker).toMatch(/^temporal_\w*workflow_task\w*[{ ]/m);

  await tracing.spanProcessor.forceFlush();
  const finished = spans.getFinishedSpans();
  const root = finished.find((s) => s.name === 'POST /1.0/domain/:serviceName/changeContact')!;
  expect(root.attributes['request.id']).toBe('story-request-1');
  const inTrace = finished
    .filter((s) => s.spanContext().traceId === root.spanContext().traceId)
    .map((s) => s.name);
  expect(inTrace).toEqual(
    expect.arrayContaining([
      'StartWorkflow:contactChange',
      'StartActivity:applyChange', // from inside the workflow, exported through its sink
      'RunActivity:openTask',
      'RunActivity:applyChange',
    ]),
  );
});

test('/metrics answers loopback and private networks only', () => {
  for (const inside of ['127.0.0.1', '::1', '::ffff:10.1.2.3', '172.20.0.5', '192.168.1.9', 'fd00::1']) {
    expect(fromInside(inside)).toBe(true);
  }
  for (const outside of ['203.0.113.9', '::ffff:8.8.8.8', '172.32.0.1', '2001:db8::1', undefined]) {
    expect(fromInside(outside)).toBe(false);
  }
});
