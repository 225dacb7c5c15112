import { execSync } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { readCodeEmail, type StoredMail } from '../lib/mailbox';
import { DEMO_PASSWORD } from '../prisma/seed-data';
import { HttpSession } from './bench/http';

/**
 * npm run deployment-check: the guide's story against a running deployment, from the outside, asserting each
 * step — for docker-compose.yml (the demo seed of its migrate job). For each demo service the demo admin holds,
 * the tech contact is handed over (to ne44444-ovh, or back to te22222-ovh): ask, read both codes from the mail
 * catcher, accept both, see the new contact in place. With KILL_WORKER_COMMAND (say `docker kill main_worker_1`),
 * one more story has a worker killed between its two acceptances, and must still end done.
 * API_URL, MAIL_URL (the catcher: this project's or Mailpit), TEMPORAL_ADDRESS and TEMPORAL_UI_URL point at it.
 */
const apiUrl = process.env.API_URL ?? 'http://localhost:3000';
const mailUrl = process.env.MAIL_URL ?? 'http://localhost:8025';
const temporalAddress = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
const uiUrl = process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233';
const killWorker = process.env.KILL_WORKER_COMMAND;
const ADMIN = 'xx11111-ovh';
const EMAIL: Record<string, string> = {
  'xx11111-ovh': 'ana.admin@example.test',
  'te22222-ovh': 'theo.tech@example.test',
  'ne44444-ovh': 'nora.new@example.test',
};
const log = (line: string) => process.stdout.write(`[deployment-check] ${line}\n`);

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

/** Mail from this project's catcher (/api/messages) or from Mailpit (/api/v1/messages). */
async function mailbox(): Promise<StoredMail[]> {
  const ours = await fetch(`${mailUrl}/api/messages`);
  if (ours.ok) return (await ours.json()) as StoredMail[];
  const list = (await (await fetch(`${mailUrl}/api/v1/messages?limit=500`)).json()) as {
    messages: { ID: string; To: { Address: string }[]; Subject: string }[];
  };
  return Promise.all(
    list.messages.map(async (m, i) => {
      const full = (await (await fetch(`${mailUrl}/api/v1/message/${m.ID}`)).json()) as { Text: string };
      return {
        id: i,
        messageId: m.ID,
        from: '',
        to: m.To.map((t) => t.Address),
        subject: m.Subject,
        text: full.Text,
        date: '',
      };
    }),
  );
}

async function codeFor(email: string, taskId: number) {
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    const mail = (await mailbox()).find(
      (m) => m.to.includes(email) && m.text.includes(`/validate/${taskId}#`),
    );
    if (mail) return readCodeEmail(mail).code;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no code mail to ${email} for task ${taskId}`);
}

async function main() {
  const sessions = new Map<string, HttpSession>();
  const session = async (handle: string) => {
    if (!sessions.has(handle)) {
      const s = new HttpSession(apiUrl, []);
      await s.login(handle, DEMO_PASSWORD);
      sessions.set(handle, s);
    }
    return sessions.get(handle)!;
  };
  const admin = await session(ADMIN);
  const listed = (await admin.call('GET', '/1.0/me/contactManagement/services?role=contactAdmin&limit=50'))
    .json.items as { serviceType: string; serviceName: string }[];
  const services = listed.map(({ serviceType, serviceName }) => ({ type: serviceType, name: serviceName }));
  check(services.length > 0, `the demo admin holds ${services.length} services`);

  const story = async (service: { type: string; name: string }, between?: () => Promise<void>) => {
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
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const after = (await admin.call('GET', `${base}/serviceInfos`)).json.contactTech;
    check(after === to, `${service.name}: task ${id} done, tech contact ${before} -> ${after}`);
  };

  const started = performance.now();
  await Promise.all(services.map((service) => story(service)));
  log(`${services.length} concurrent stories in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (killWorker) {
    const killStarted = performance.now();
    await story(services[0], async () => {
      execSync(killWorker, { stdio: 'ignore' });
      log(`between the two acceptances: ${killWorker}`);
    });
    log(`the story with a killed worker took ${((performance.now() - killStarted) / 1000).toFixed(1)} s`);
  }

  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection });
    const done = await client.workflow.count(`WorkflowType = 'contactChange' AND ContactTaskState = 'done'`);
    check(
      done.count >= services.length,
      `Temporal visibility finds ${done.count} done tasks by search attribute`,
    );
    const identities = new Set<string>();
    for await (const execution of client.workflow.list({ query: `WorkflowType = 'contactChange'` })) {
      const { events } = await client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .fetchHistory();
      for (const event of events ?? []) {
        const identity =
          event.workflowTaskStartedEventAttributes?.identity ??
          event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity);
      }
    }
    log(`workers seen in the histories: ${[...identities].join(', ')}`);
  } finally {
    await connection.close();
  }
  const ui = (await (await fetch(`${uiUrl}/api/v1/namespaces/default/workflows?query=`)).json()) as {
    executions?: unknown[];
  };
  check((ui.executions ?? []).length > 0, `the Temporal Web UI lists ${ui.executions?.length} workflows`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`deployment check failed: ${error.stack}\n`);
    process.exit(1);
  },
);
