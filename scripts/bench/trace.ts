import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { temporal } from '@temporalio/proto';
import { readCodeEmail } from '../../lib/mailbox';
import { percentile, pool } from './http';
import { cpuSecondsOf, startBenchStack, type BenchStack } from './stack';
import { CLOSED_LOOP_CAST, openSessions, seedStories, StoryLatencies, type StorySession } from './stories';

/**
 * npm run bench:trace: where a story's time goes. One story alone, then TRACE_BURST (20) at once, on the bench's
 * stack; each story's steps timed at the client (API calls, mails seen by the SMTP sink) and merged with its
 * workflow history's event times (the Temporal server's clock, the same machine's), then per kind of wait: a
 * workflow or activity task waiting for a worker's poll (scheduled -> started), running in the worker (started
 * -> completed), and the Temporal server between a completion and what it causes. Prints tables; asserts nothing.
 */
const BURST = Number(process.env.TRACE_BURST ?? 20);
const log = (line: string) => process.stdout.write(`${line}\n`);
const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface Mark {
  label: string;
  at: number;
}

const eventMs = (event: HistoryEvent) =>
  Number(event.eventTime!.seconds) * 1000 + Math.floor((event.eventTime!.nanos ?? 0) / 1e6);
const eventName = (event: HistoryEvent) =>
  (EventType[event.eventType!] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, '');

async function tracedStory(stack: BenchStack, { admin, newbie }: StorySession, i: number) {
  const marks: Mark[] = [];
  const mark = (label: string) => marks.push({ label, at: Date.now() });
  const cast = CLOSED_LOOP_CAST;
  mark('API changeContact sent');
  const [id] = (
    await admin.callRetryingBusy('POST', `/1.0/domain/${cast.service}-${i}.bench/changeContact`, {
      contactTech: `${cast.newbie}${i}-ovh`,
    })
  ).json as number[];
  mark('API changeContact answered');
  const codeOf = (who: string) =>
    stack.mailbox
      .waitFor((m) => m.to[0] === `${who}${i}@bench.test` && m.text.includes(`/validate/${id}#`), 60_000)
      .then((mail) => {
        mark(`code mail to ${who} received`);
        return readCodeEmail(mail);
      });
  const [adminCode, newbieCode] = await Promise.all([codeOf(cast.admin), codeOf(cast.newbie)]);
  mark('API GET sent');
  await newbie.call('GET', `/1.0/me/task/contactChange/${id}`);
  mark('API GET answered');
  mark('API accept 1 sent');
  await admin.call('POST', `/1.0/me/task/contactChange/${id}/accept`, { token: adminCode.code });
  mark('API accept 1 answered');
  mark('API accept 2 sent');
  await newbie.call('POST', `/1.0/me/task/contactChange/${id}/accept`, { token: newbieCode.code });
  mark('API accept 2 answered');
  await stack.mailbox.waitFor(
    (m) => m.to[0] === `${cast.newbie}${i}@bench.test` && m.subject.includes('done'),
    60_000,
  );
  mark('done mail received');
  const row = await stack.db.contactChangeTask.findUniqueOrThrow({ where: { id } });
  marks.push({ label: 'read model: dateDone (worker clock)', at: row.dateDone!.getTime() });
  const history = (await stack.client.workflow.getHandle(row.workflowId).fetchHistory()).events ?? [];
  return { marks, history };
}

/** Durations between related events of one history, by kind. */
function waitsOf(history: HistoryEvent[]) {
  const byId = new Map(history.map((e) => [Number(e.eventId), e]));
  const waits: Record<string, number[]> = {};
  const add = (kind: string, ms: number) => (waits[kind] ??= []).push(ms);
  const previousOf = (event: HistoryEvent) => byId.get(Number(event.eventId) - 1);
  for (const event of history) {
    const at = eventMs(event);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const scheduled = byId.get(Number(event.workflowTaskStartedEventAttributes!.scheduledEventId));
        add('workflow task: scheduled -> started (waits for a poll)', at - eventMs(scheduled!));
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const started = byId.get(Number(event.workflowTaskCompletedEventAttributes!.startedEventId));
        add('workflow task: started -> completed (in the worker)', at - eventMs(started!));
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const scheduled = byId.get(Number(event.activityTaskStartedEventAttributes!.scheduledEventId));
        add('activity task: scheduled -> started (waits for a poll)', at - eventMs(scheduled!));
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const attributes = event.activityTaskCompletedEventAttributes!;
        const started = byId.get(Number(attributes.startedEventId));
        const scheduled = byId.get(Number(attributes.scheduledEventId));
        const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        add(`activity ${type}: started -> completed`, at - eventMs(started!));
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: {
        const previous = previousOf(event);
        if (previous && previous.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
          add('activity completed -> workflow task scheduled', at - eventMs(previous));
        break;
      }
    }
  }
  return waits;
}

function printTimeline({ marks, history }: Awaited<ReturnType<typeof tracedStory>>) {
  const origin = marks[0].at;
  const rows = [
    ...marks.map((m) => ({ at: m.at, what: `client: ${m.label}` })),
    ...history.map((e) => {
      const attrs =
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        e.markerRecordedEventAttributes?.markerName ??
        e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ??
        '';
      return { at: eventMs(e), what: `history ${Number(e.eventId)}: ${eventName(e)} ${attrs}` };
    }),
  ].sort((a, b) => a.at - b.at);
  log('\n| ms since changeContact sent | what |\n| ---: | --- |');
  for (const row of rows) log(`| ${row.at - origin} | ${row.what} |`);
}

function printWaits(title: string, histories: HistoryEvent[][]) {
  const all: Record<string, number[]> = {};
  for (const history of histories) {
    for (const [kind, values] of Object.entries(waitsOf(history))) (all[kind] ??= []).push(...values);
  }
  log(`\n| ${title} | count | p50 | p99 | sum per story |\n| --- | ---: | ---: | ---: | ---: |`);
  for (const [kind, values] of Object.entries(all).sort()) {
    const sum = values.reduce((a, b) => a + b, 0);
    log(
      `| ${kind} | ${values.length} | ${percentile(values, 50)} | ${percentile(values, 99)} | ${(sum / histories.length).toFixed(0)} |`,
    );
  }
}

function printSteps(title: string, stories: { marks: Mark[] }[]) {
  const steps: Record<string, number[]> = {};
  for (const { marks } of stories) {
    const at = (label: string) => marks.find((m) => m.label === label)!.at;
    const add = (step: string, ms: number) => (steps[step] ??= []).push(ms);
    add('changeContact', at('API changeContact answered') - at('API changeContact sent'));
    add(
      'changeContact answered -> both code mails received',
      Math.max(
        at(`code mail to ${CLOSED_LOOP_CAST.admin} received`),
        at(`code mail to ${CLOSED_LOOP_CAST.newbie} received`),
      ) - at('API changeContact answered'),
    );
    add('GET task', at('API GET answered') - at('API GET sent'));
    add('accept 1', at('API accept 1 answered') - at('API accept 1 sent'));
    add('accept 2 (last)', at('API accept 2 answered') - at('API accept 2 sent'));
    add(
      'last accept sent -> applied (dateDone)',
      at('read model: dateDone (worker clock)') - at('API accept 2 sent'),
    );
    add('last accept sent -> done mail received', at('done mail received') - at('API accept 2 sent'));
    add('whole story', at('done mail received') - at('API changeContact sent'));
  }
  log(`\n| ${title}: step | p50 ms | p99 ms |\n| --- | ---: | ---: |`);
  for (const [step, values] of Object.entries(steps)) {
    log(`| ${step} | ${percentile(values, 50)} | ${percentile(values, 99)} |`);
  }
}

/** TRACE_STRACE=1: the Temporal server's fsyncs and writes, counted by strace while a phase runs. */
function straceOf(pid: number | undefined) {
  const child = spawn(
    'strace',
    ['-f', '-c', '-e', 'trace=fsync,fdatasync,pwrite64,write', '-p', String(pid)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  return () =>
    new Promise<string>((resolve) => {
      child.once('exit', () => resolve(output));
      child.kill('SIGINT');
    });
}

function cpuOf(stack: BenchStack) {
  const { user, system } = process.cpuUsage();
  return {
    'API+bench': (user + system) / 1e6,
    worker: cpuSecondsOf(stack.workerPid()),
    temporal: cpuSecondsOf(stack.temporalPid()),
    postgres: cpuSecondsOf(stack.postgres.pid(), true),
  };
}

async function main() {
  log(
    `trace: start, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
  const stack = await startBenchStack(log, { pingWorker: true, workerProcess: true });
  try {
    const total = 2 + BURST;
    await seedStories(stack, CLOSED_LOOP_CAST, total);
    const latencies = new StoryLatencies();
    const sessions = await openSessions(stack, log, CLOSED_LOOP_CAST, [...Array(total).keys()], latencies);
    // A first story warms the worker's caches and connections; the second, alone, is the one traced.
    await tracedStory(stack, sessions[0], 0);
    const alone = await tracedStory(stack, sessions[1], 1);
    printTimeline(alone);
    printWaits('one story alone: wait', [alone.history]);
    printSteps('one story alone', [alone]);
    const burst: Awaited<ReturnType<typeof tracedStory>>[] = [];
    const burstStrace = process.env.TRACE_STRACE === '1' ? straceOf(stack.temporalPid()) : undefined;
    const before = cpuOf(stack);
    const started = Date.now();
    await pool(log, [...Array(BURST).keys()], BURST, async (k) => {
      burst.push(await tracedStory(stack, sessions[2 + k], 2 + k));
    });
    const seconds = (Date.now() - started) / 1000;
    const after = cpuOf(stack);
    if (burstStrace) log(`the Temporal server's system calls during the burst:\n${await burstStrace()}`);
    log(`\n${BURST} stories at once: ${seconds.toFixed(2)} s (${(BURST / seconds).toFixed(2)}/s)`);
    log(
      `CPU: ${Object.keys(before)
        .map((k) => `${k} ${((((after as never)[k] - (before as never)[k]) / seconds) * 100).toFixed(0)} %`)
        .join(', ')}`,
    );
    printWaits(
      `${BURST} at once: wait`,
      burst.map((s) => s.history),
    );
    printSteps(`${BURST} at once`, burst);
    const slowest = burst.reduce((a, b) =>
      a.marks.at(-2)!.at - a.marks[0].at > b.marks.at(-2)!.at - b.marks[0].at ? a : b,
    );
    log('\nthe slowest story of the burst:');
    printTimeline(slowest);
    const pings = 2 * BURST;
    const strace = process.env.TRACE_STRACE === '1' ? straceOf(stack.temporalPid()) : undefined;
    const pingStarted = Date.now();
    await pool(log, [...Array(pings).keys()], BURST, async (k) => {
      await stack.client.workflow.execute('pingWorkflow', {
        taskQueue: 'bench-ping',
        workflowId: `ping-${k}`,
      });
    });
    const pingSeconds = (Date.now() - pingStarted) / 1000;
    log(`\n${pings} pings at concurrency ${BURST}: ${(pings / pingSeconds).toFixed(2)}/s (engine ceiling)`);
    if (strace) log(`the Temporal server's system calls during the pings:\n${await strace()}`);
    log(
      `\ntrace: end, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );
  } finally {
    await stack.close();
  }
}

main().catch((error) => {
  process.stderr.write(`trace failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
