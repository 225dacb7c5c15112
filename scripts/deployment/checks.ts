import { Client, Connection } from '@temporalio/client';
import { readCodeEmail, type StoredMail } from '../../lib/mailbox';
import { DEMO_PASSWORD } from '../../prisma/seed-data';
import { HttpSession } from '../bench/http';
import { untilPolling } from '../stack/pollers';

/** A running deployment, seen from the outside (`npm run deployment-check`, `npm run distributed`). */
export interface Deployment {
  apiUrl: string;
  temporalAddress: string;
  uiUrl: string;
  /** Every mail the deployment's mail catcher holds. */
  mails(): Promise<StoredMail[]>;
  /** Kills a worker: a last story runs with it killed between its two acceptances. */
  killWorker?: () => Promise<void> | void;
  /** When given, the histories must show this many distinct workers. */
  workers?: number;
  log(line: string): void;
}

export interface DeploymentCheckResult {
  stories: number;
  seconds: number;
  killSeconds?: number;
  /** Every API call's latency, in ms. */
  latencies: number[];
}

const ADMIN = 'xx11111-ovh';
const TASK_QUEUE = 'contact-changes'; // the default of TEMPORAL_TASK_QUEUE, as both deployments run it
const EMAIL: Record<string, string> = {
  'xx11111-ovh': 'ana.admin@example.test',
  'te22222-ovh': 'theo.tech@example.test',
  'ne44444-ovh': 'nora.new@example.test',
};

/**
 * The guide's story for each service the demo admin holds (demo seed): the tech contact is handed over (to
 * ne44444-ovh, or back to te22222-ovh) — ask, read both codes from the mail, accept both, see the new contact in
 * place; then a story with a worker killed between its acceptances; then visibility, the workers seen in the
 * histories and the Web UI. Throws at the first check that fails.
 */
export async function checkDeployment(deployment: Deployment): Promise<DeploymentCheckResult> {
  const { log } = deployment;
  const check = (condition: unknown, what: string) => {
    if (!condition) throw new Error(`check failed: ${what}`);
    log(`ok: ${what}`);
  };
  const latencies: number[] = [];
  const sessions = new Map<string, HttpSession>();
  const session = async (handle: string) => {
    if (!sessions.has(handle)) {
      const s = new HttpSession(deployment.apiUrl, latencies);
      await s.login(handle, DEMO_PASSWORD);
      sessions.set(handle, s);
    }
    return sessions.get(handle)!;
  };
  const codeMails = async (taskId: number) =>
    (await deployment.mails()).filter((m) => m.text.includes(`/validate/${taskId}#`));
  const codeFor = async (email: string, taskId: number) => {
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      const mail = (await codeMails(taskId)).find((m) => m.to.includes(email));
      if (mail) return readCodeEmail(mail).code;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no code mail to ${email} for task ${taskId}`);
  };

  const story = async (service: { type: string; name: string }, between?: () => Promise<void>) => {
    const admin = await session(ADMIN);
    const base = `/1.0/${service.type}/${service.name}`;
    const before = (await admin.call('GET', `${base}/serviceInfos`)).json.contactTech as string;
    const to = before === 'ne44444-ovh' ? 'te22222-ovh' : 'ne44444-ovh';
    const [id] = (await admin.call('POST', `${base}/changeContact`, { contactTech: to })).json as number[];
    const [adminCode, newCode] = await Promise.all([codeFor(EMAIL[ADMIN], id), codeFor(EMAIL[to], id)]);
    await admin.call('POST', `/1.0/me/task/contactChange/${id}/accept`, { token: adminCode });
    await between?.();
    await (await session(to)).call('POST', `/1.0/me/task/contactChange/${id}/accept`, { token: newCode });
    for (const until = Date.now() + 60_000; ;) {
      const task = (await admin.call('GET', `/1.0/me/task/contactChange/${id}`)).json;
      if (task.state === 'done') break;
      if (Date.now() > until) throw new Error(`task ${id} is still ${task.state}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const after = (await admin.call('GET', `${base}/serviceInfos`)).json.contactTech;
    check(after === to, `${service.name}: task ${id} done, tech contact ${before} -> ${after}`);
    return id;
  };

  const connection = await Connection.connect({ address: deployment.temporalAddress });
  try {
    const client = new Client({ connection });
    const doneQuery = `WorkflowType = 'contactChange' AND ContactTaskState = 'done'`;
    const doneBefore = (await client.workflow.count(doneQuery)).count;
    if (deployment.workers !== undefined) {
      const polling = await untilPolling(connection, TASK_QUEUE, deployment.workers);
      check(polling === deployment.workers, `${polling} workers poll the task queue`);
    }

    const listed = (
      await (
        await session(ADMIN)
      ).call('GET', '/1.0/me/contactManagement/services?role=contactAdmin&limit=50')
    ).json.items as { serviceType: string; serviceName: string }[];
    const services = listed.map(({ serviceType, serviceName }) => ({ type: serviceType, name: serviceName }));
    check(services.length > 0, `the demo admin holds ${services.length} services`);
    const started = performance.now();
    await Promise.all(services.map((service) => story(service)));
    const seconds = (performance.now() - started) / 1000;
    log(`${services.length} concurrent stories in ${seconds.toFixed(1)} s`);
    let stories = services.length;
    let killSeconds: number | undefined;
    if (deployment.killWorker) {
      const killStarted = performance.now();
      const id = await story(services[0], async () => {
        await deployment.killWorker!();
        log('a worker killed between the two acceptances');
      });
      stories += 1;
      killSeconds = (performance.now() - killStarted) / 1000;
      const codes = (await codeMails(id)).length;
      check(
        codes === 2,
        `the story with a killed worker ended in ${killSeconds.toFixed(1)} s, ${codes} code mails`,
      );
    }

    // Visibility follows each workflow's end by a moment.
    let done = 0;
    for (const until = Date.now() + 5_000; ; await new Promise((resolve) => setTimeout(resolve, 200))) {
      done = (await client.workflow.count(doneQuery)).count - doneBefore;
      if (done === stories || Date.now() > until) break;
    }
    check(done === stories, `Temporal visibility finds the ${done} tasks done now by search attribute`);
    const workers = await workersInHistories(client);
    const seen = `workers seen in the histories: ${[...workers].join(', ')}`;
    if (deployment.workers === undefined) log(seen);
    else check(workers.size === deployment.workers, seen);
    const ui = (await (
      await fetch(`${deployment.uiUrl}/api/v1/namespaces/default/workflows?query=`)
    ).json()) as {
      executions?: unknown[];
    };
    check((ui.executions ?? []).length > 0, `the Temporal Web UI lists ${ui.executions?.length} workflows`);
    return { stories, seconds, killSeconds, latencies };
  } finally {
    await connection.close();
  }
}

/** Each task in a history names the worker (pid@host) that took it. */
async function workersInHistories(client: Client): Promise<Set<string>> {
  const workers = new Set<string>();
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'contactChange'` })) {
    const { events } = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    for (const event of events ?? []) {
      const identity =
        event.workflowTaskStartedEventAttributes?.identity ??
        event.activityTaskStartedEventAttributes?.identity;
      if (identity) workers.add(identity);
    }
  }
  return workers;
}
