import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { bundleWorkflows, WORKFLOW_BUNDLE_FILES, workflowSource } from '../../worker/workflow-bundle';
import { MAX_WRONG_CODES } from '../../workflows/contact-change.messages';
import { createAccounts, createService, PASSWORD } from '../helpers/fixtures';
import { promtool, sample } from '../helpers/prometheus';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { quietTemporalLogs } from '../helpers/temporal';

const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const NEWBIE = 'ne44444-ovh';
const SERVICES = ['metrics.example', 'failing.example', 'cancelled.example'];

// One tracer provider per process (OpenTelemetry's global), and one Temporal runtime (its SDK metrics): shared by
// both workers below.
let sdkMetricsUrl: string;
let tracing: Tracing;
const spans = new InMemorySpanExporter();

beforeAll(async () => {
  const sdkPort = await freePort();
  sdkMetricsUrl = `http://127.0.0.1:${sdkPort}/metrics`;
  quietTemporalLogs(`127.0.0.1:${sdkPort}`);
  tracing = startTracing('contacts-test', {}, spans)!;
});
afterAll(() => tracing?.shutdown());

interface Observed {
  stack: Stack;
  app: ReturnType<typeof createApp>;
  workerMetrics: ReturnType<typeof createWorkerMetrics>;
}

/** The stack with the API as api/server.ts builds it: metrics, a span per request, a Temporal client carrying the trace. */
async function startObservedStack(workflowBundleDir?: string): Promise<Observed> {
  const workerMetrics = createWorkerMetrics();
  const stack = await startStack({ workerMetrics, tracing, workflowBundleDir });
  const temporal = new Client({
    connection: stack.env.client.connection,
    interceptors: tracingClientInterceptors(tracing),
  });
  const app = createApp({
    db: stack.database.db,
    temporal,
    config: stack.config,
    logger: createLogger('silent'),
    metrics: createApiMetrics(),
    tracing: true,
  });
  await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: TECH }, { handle: NEWBIE }]);
  for (const name of SERVICES) {
    await createService(stack.database.db, { name, admin: ADMIN, tech: TECH, billing: ADMIN });
  }
  return { stack, app, workerMetrics };
}

async function loginAs({ app }: Observed, handle: string) {
  const agent = request.agent(app);
  const { csrfToken } = (await agent.post('/auth/login').send({ handle, password: PASSWORD }).expect(200))
    .body;
  return (path: string, body: object = {}) => agent.post(path).set('X-CSRF-Token', csrfToken).send(body);
}

const codeFor = ({ stack }: Observed, handle: string, taskId: number) =>
  stack.mailbox
    .waitFor((m) => m.to.includes(`${handle}@mail.test`) && m.text.includes(`/validate/${taskId}#code=`))
    .then((mail) => readCodeEmail(mail).code);

/** Once the task's run has ended (its end is in the read model by then), its final state. */
async function expectEnded({ stack }: Observed, id: number, state: string) {
  await stack.taskEnded(id);
  expect(await stack.database.db.contactChangeTask.findUniqueOrThrow({ where: { id } })).toMatchObject({
    state,
  });
}

/** The guide's story, its request sent with an X-Request-Id: one wrong code, both acceptances, the change applied. */
async function story(observed: Observed, requestId: string): Promise<number> {
  const admin = await loginAs(observed, ADMIN);
  const newbie = await loginAs(observed, NEWBIE);
  const asked = await admin('/1.0/domain/metrics.example/changeContact', { contactTech: NEWBIE })
    .set('X-Request-Id', requestId)
    .expect(200);
  const id = asked.body[0] as number;
  await newbie(`/1.0/me/task/contactChange/${id}/accept`, { token: 'WRONGCODE9' }).expect(403);
  await admin(`/1.0/me/task/contactChange/${id}/accept`, {
    token: await codeFor(observed, ADMIN, id),
  }).expect(200);
  await newbie(`/1.0/me/task/contactChange/${id}/accept`, {
    token: await codeFor(observed, NEWBIE, id),
  }).expect(200);
  await expectEnded(observed, id, 'done');
  expect(await observed.stack.database.db.sentEmail.count({ where: { taskId: id } })).toBeGreaterThanOrEqual(
    5,
  );
  return id;
}

/** The spans of the trace the request with this id started, once its workflow's own span has come back. */
async function traceOf(requestId: string) {
  // The sink hands the workflow's spans over after its last activation: no event to wait on.
  await eventually('the workflow span through its sink', async () => {
    await tracing.spanProcessor.forceFlush();
    expect(spans.getFinishedSpans().map((s) => s.name)).toContain('RunWorkflow:contactChange');
  });
  const finished = spans.getFinishedSpans();
  const root = finished.find((s) => s.attributes['request.id'] === requestId && s.parentSpanId === undefined);
  expect(root?.name).toBe('POST /1.0/domain/:serviceName/changeContact');
  return finished.filter((s) => s.spanContext().traceId === root!.spanContext().traceId);
}

/** What both workers must show: one trace from the request through the workflow to its activities. */
async function expectOneTraceAcross(observed: Observed, requestId: string) {
  spans.reset();
  await story(observed, requestId);
  const trace = await traceOf(requestId);
  expect(trace.map((s) => s.name)).toEqual(
    expect.arrayContaining([
      'StartWorkflow:contactChange', // the API's Temporal client
      'RunWorkflow:contactChange', // inside the workflow, exported through its sink
      'StartActivity:openTask', // the workflow scheduling its activities
      'StartActivity:applyChange',
      'RunActivity:openTask', // the worker running them
      'RunActivity:applyChange',
    ]),
  );
  // The request id travels as baggage with the trace: every activity's span names the request.
  const activities = trace.filter((s) => s.name.startsWith('RunActivity:'));
  expect(activities.map((s) => s.attributes['request.id'])).toEqual(activities.map(() => requestId));
}

describe('a worker bundling the workflow code at start (development, tests)', () => {
  let observed: Observed;
  beforeAll(async () => {
    observed = await startObservedStack();
  }, 120_000);
  afterAll(() => observed?.stack.teardown());

  test('one trace runs from the API request through the workflow to the activities, with the request id', () =>
    expectOneTraceAcross(observed, 'story-sources-1'));

  test('after the stories, /metrics of the API and the worker count every figure the alerts read', async () => {
    await failingStory(observed);
    await cancelledStory(observed);
    const api = (await request(observed.app).get('/metrics').expect(200)).text;
    const worker = await metricsText(observed.workerMetrics.register, sdkMetricsUrl);
    expectApiMetrics(api);
    expectWorkerMetrics(worker);
    for (const text of [api, worker]) expectPrometheusNames(text);
    // Prometheus's own lint, on each registry (the worker's without the SDK's part, which is the SDK's naming).
    for (const text of [api, await observed.workerMetrics.register.metrics()]) {
      const { output } = promtool(['check', 'metrics'], text);
      // prom-client's standard gauges nodejs_active_{handles,requests,resources}_total, shared by every Node.js
      // exporter, are the only complaints allowed.
      const complaints = output
        .split('\n')
        .filter((line) => line.trim() !== '' && !/^contacts_nodejs_active_\w+_total non-counter/.test(line));
      expect(complaints).toEqual([]);
    }
  });
});

describe('a worker running the prebuilt workflow bundle (npm run build, the Docker image)', () => {
  let observed: Observed;
  let bundleDir: string;
  beforeAll(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), 'contacts-bundle-'));
    // As scripts/build.ts writes it into dist/.
    writeFileSync(join(bundleDir, WORKFLOW_BUNDLE_FILES.traced), await bundleWorkflows(true));
    observed = await startObservedStack(bundleDir);
  }, 180_000);
  afterAll(async () => {
    await observed?.stack.teardown();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  test('the tracing worker loads the traced bundle, and one trace still runs through the workflow', async () => {
    expect(workflowSource(true, bundleDir)).toEqual({
      workflowBundle: { codePath: join(bundleDir, WORKFLOW_BUNDLE_FILES.traced) },
    });
    await expectOneTraceAcross(observed, 'story-bundle-1');
  });
});

/** A story that fails where the alerts look: the mail server down at first, a code locked, a refusal. */
async function failingStory(observed: Observed) {
  const admin = await loginAs(observed, ADMIN);
  const newbie = await loginAs(observed, NEWBIE);
  const { stack, workerMetrics } = observed;
  stack.mailbox.setDown(true);
  const id = (await admin('/1.0/domain/failing.example/changeContact', { contactTech: NEWBIE }).expect(200))
    .body[0] as number;
  // Counters announce nothing: read until the refused mail has been retried.
  await eventually('a refused mail retried', async () => {
    const text = await workerMetrics.register.metrics();
    expect(sample(text, 'contacts_mails_failed_total')).toBeGreaterThan(0);
    expect(sample(text, 'contacts_mail_retries_total', 'activity="issueCodes"')).toBeGreaterThan(0);
  });
  stack.mailbox.setDown(false);
  const adminCode = await codeFor(observed, ADMIN, id);
  await codeFor(observed, NEWBIE, id);
  const reasons: string[] = [];
  for (let i = 0; i < MAX_WRONG_CODES; i++) {
    reasons.push(
      (await newbie(`/1.0/me/task/contactChange/${id}/accept`, { token: 'WRONGCODE9' }).expect(403)).body
        .reason,
    );
  }
  expect(reasons.at(-2)).toBe('wrongCode');
  expect(reasons.at(-1)).toBe('codeLocked');
  await admin(`/1.0/me/task/contactChange/${id}/refuse`, { token: adminCode }).expect(200);
  await expectEnded(observed, id, 'refused');
}

/** A request its asker cancels. */
async function cancelledStory(observed: Observed) {
  const admin = await loginAs(observed, ADMIN);
  const id = (await admin('/1.0/domain/cancelled.example/changeContact', { contactTech: NEWBIE }).expect(200))
    .body[0] as number;
  await admin(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
  await expectEnded(observed, id, 'aborted');
}

function expectApiMetrics(api: string) {
  const changeContact = 'route="/1.0/domain/:serviceName/changeContact"';
  const accept = 'route="/1.0/me/task/contactChange/:id/accept"';
  const ok = 'status="200"';
  const refused = 'status="403"';
  expect(sample(api, 'contacts_http_requests_total', changeContact, ok)).toBe(3);
  expect(sample(api, 'contacts_http_requests_total', accept, ok)).toBe(2);
  expect(sample(api, 'contacts_http_requests_total', accept, refused)).toBe(1 + MAX_WRONG_CODES);
  expect(sample(api, 'contacts_http_request_duration_seconds_bucket', 'le="+Inf"', changeContact, ok)).toBe(
    3,
  );
  expect(sample(api, 'contacts_http_request_duration_seconds_count', accept, refused)).toBe(
    1 + MAX_WRONG_CODES,
  );
  expect(api).toContain('# TYPE contacts_process_cpu_seconds_total counter');
}

function expectWorkerMetrics(worker: string) {
  expect(sample(worker, 'contacts_tasks_opened_total')).toBe(3);
  for (const state of ['done', 'refused', 'aborted']) {
    expect(sample(worker, 'contacts_tasks_ended_total', `state="${state}"`)).toBe(1);
  }
  expect(sample(worker, 'contacts_task_time_to_last_acceptance_seconds_count')).toBe(1);
  expect(sample(worker, 'contacts_task_time_to_applied_seconds_count')).toBe(1);
  expect(sample(worker, 'contacts_task_time_to_applied_seconds_bucket', 'le="+Inf"')).toBe(1);
  expect(sample(worker, 'contacts_code_rejections_total', 'outcome="wrongCode"')).toBe(MAX_WRONG_CODES);
  expect(sample(worker, 'contacts_code_rejections_total', 'outcome="locked"')).toBe(1);
  expect(sample(worker, 'contacts_mails_sent_total')).toBeGreaterThanOrEqual(5 + 2 + 2);
  expect(sample(worker, 'contacts_mails_failed_total')).toBeGreaterThanOrEqual(1);
  expect(sample(worker, 'contacts_mail_retries_total', 'activity="issueCodes"')).toBeGreaterThanOrEqual(1);
  // Counted by the webhook worker (test/integrations/webhooks.test.ts counts them); declared here all the same.
  expect(worker).toContain('# TYPE contacts_webhook_delivery_attempts_total counter');
  expect(worker).toContain('# TYPE contacts_webhook_deliveries_given_up_total counter');
  // The Temporal SDK's own worker metrics, merged into the same scrape.
  expect(worker).toMatch(/^temporal_\w*workflow_task\w*[{ ]/m);
  expect(worker).toMatch(/^temporal_\w*activity_execution\w*[{ ]/m);
}

/**
 * Prometheus naming (https://prometheus.io/docs/practices/naming/): the application prefix, snake case, base units,
 * `_total` on counters and only there; and the text parses (promtool's lint where Debian's prometheus package is
 * installed).
 */
function expectPrometheusNames(text: string) {
  const declared = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, kind]) => ({ name, kind }));
  // Not the SDK's, nor prom-client's standard process metrics (whose gauges such as nodejs_active_handles_total
  // every Node.js exporter shares).
  const ours = declared.filter(({ name }) => !/^(temporal|contacts_process|contacts_nodejs)_/.test(name));
  expect(ours.length).toBeGreaterThan(0);
  for (const { name, kind } of ours) {
    expect(name).toMatch(/^contacts_[a-z][a-z0-9_]*[a-z0-9]$/);
    if (kind === 'counter') expect(name).toMatch(/_total$/);
    else expect(name).not.toMatch(/_total$/);
    expect(name).not.toMatch(/_(milliseconds|ms|minutes|hours|days)(_|$)/);
    if (kind === 'histogram' && /duration|time/.test(name)) expect(name).toMatch(/_seconds$/);
  }
  const samples = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  for (const line of samples) {
    expect(line).toMatch(/^[a-zA-Z_:][\w:]*(\{[^}]*\})? (-?[\d.]+(e[+-]?\d+)?|NaN|[+-]Inf)$/);
  }
}

test('/metrics answers loopback and private networks only', () => {
  for (const inside of ['127.0.0.1', '::1', '::ffff:10.1.2.3', '172.20.0.5', '192.168.1.9', 'fd00::1']) {
    expect(fromInside(inside)).toBe(true);
  }
  for (const outside of ['203.0.113.9', '::ffff:8.8.8.8', '172.32.0.1', '2001:db8::1', undefined]) {
    expect(fromInside(outside)).toBe(false);
  }
});
