import { loadavg } from 'node:os';
import { hashPassword } from '../../api/auth/passwords';
import { deriveCode } from '../../lib/codes';
import { HttpSession, pool, PASSWORD } from './http';
import { mib, resetRssPeak, rssOf, rssPeakOf, type BenchStack } from './stack';
import { openSessions, runStory, seedStories, StoryLatencies, type StoryCast } from './stories';

/**
 * Issue 12's figures: a real move of every service the listing's account holds a role on (50,000 with the default
 * seed) to another account, both validators accepting with their code, then the time from the last acceptance to
 * every item applied, the mails each validator got per step, and the worker's RSS peak meanwhile. Beside it, the
 * same change as single tasks on a small sample, extrapolated to the move's size.
 */
const SAMPLE_CAST: StoryCast = { admin: 'va', tech: 'vt', newbie: 'vn', service: 'movesample' };
const POLL_MS = 500;

interface MoveView {
  id: number;
  state: string;
  counts: { total: number; applied: number; skipped: number; refused: number; remaining: number };
  validators: { handle: string; items: number }[];
}

export interface MoveResult {
  items: number;
  recordSeconds: number;
  createStatus: number;
  acceptMs: number[];
  applySeconds: number;
  totalSeconds: number;
  counts: MoveView['counts'];
  state: string;
  mailsPerStep: Map<string, Map<string, number>>;
  workerRssBefore: number;
  workerRssPeak: number;
  sample: { stories: number; seconds: number; concurrency: number };
  load: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The move's validators' code for its 'created' step, derived as activities/moves.ts `codeOf` does. */
function moveCode(
  stack: BenchStack,
  move: { id: number; workflowId: string; runId: string },
  handle: string,
) {
  return deriveCode(stack.config.CODE_HASH_KEY, {
    workflowId: move.workflowId,
    runId: move.runId,
    taskId: move.id,
    handle,
    step: 'created',
  });
}

async function sessionOf(stack: BenchStack, handle: string) {
  const session = new HttpSession(stack.baseUrl, []);
  await session.login(handle);
  return session;
}

export async function runMove(
  stack: BenchStack,
  log: (line: string) => void,
  options: { fromAccount: string; toAccount: string; sampleStories: number; concurrency: number },
): Promise<MoveResult> {
  const { fromAccount, toAccount } = options;
  const passwordHash = await hashPassword(PASSWORD);
  await stack.db.account.update({ where: { handle: toAccount }, data: { passwordHash } });
  const asker = await sessionOf(stack, fromAccount);
  log(`moving every role of ${fromAccount} to ${toAccount}`);
  const started = performance.now();
  const created = await asker.send('POST', '/1.0/me/contactMove', {
    toAccount,
    contactTypes: ['admin', 'tech', 'billing'],
    filter: {},
  });
  if (created.status !== 201 && created.status !== 202)
    throw new Error(`move create -> ${created.status} ${JSON.stringify(created.json)}`);
  const id = (created.json as { id: number }).id;
  let view = created.json as MoveView;
  while (view.state === 'checking') {
    await sleep(POLL_MS);
    view = (await asker.call('GET', `/1.0/me/contactMove/${id}`)).json as MoveView;
  }
  const recordSeconds = (performance.now() - started) / 1000;
  log(`  move ${id} recorded in ${recordSeconds.toFixed(1)} s: ${view.counts.total} items, ${view.state}`);
  const move = await stack.db.contactMove.findUniqueOrThrow({ where: { id } });
  const validators = view.validators.map((v) => v.handle);
  // A code is good once its mail is out (the workflow issues codes in the background after recording).
  await Promise.all(
    validators.map((handle) =>
      stack.mailbox.waitFor(
        (m) => m.text.includes(`/validate-move/${id}#`) && m.to[0] === emailOf(handle),
        120_000,
      ),
    ),
  );
  const sessions = await Promise.all(
    validators.map((handle) => (handle === fromAccount ? asker : sessionOf(stack, handle))),
  );
  const workerRssBefore = rssOf(stack.workerPid());
  resetRssPeak(stack.workerPid()); // the apply's own peak, exact (the kernel's high-water mark)
  const acceptMs: number[] = [];
  let lastAccept = 0;
  for (const [i, handle] of validators.entries()) {
    lastAccept = Date.now();
    const before = performance.now();
    await sessions[i].callRetryingBusy('POST', `/1.0/me/contactMove/${id}/accept`, {
      token: moveCode(stack, move, handle),
    });
    acceptMs.push(performance.now() - before);
  }
  let lastProgress = 0;
  for (;;) {
    view = (await asker.call('GET', `/1.0/me/contactMove/${id}`)).json as MoveView;
    if (view.counts.remaining === 0 && view.state !== 'applying') break;
    if (Date.now() - lastProgress > 5000) {
      lastProgress = Date.now();
      log(
        `  … ${view.counts.applied}/${view.counts.total} applied (${view.state}), worker ${mib(rssOf(stack.workerPid()))}`,
      );
    }
    await sleep(POLL_MS);
  }
  const workerRssPeak = rssPeakOf(stack.workerPid());
  const polledAt = Date.now();
  // dateDone is stamped by the worker, on this machine's clock: closer than the poll.
  const { dateDone } = await stack.db.contactMove.findUniqueOrThrow({ where: { id } });
  const applySeconds = ((dateDone?.getTime() ?? polledAt) - lastAccept) / 1000;
  const totalSeconds = (performance.now() - started) / 1000;
  // The end mails go out after the apply: give them a moment before counting.
  await Promise.all(
    validators.map((handle) =>
      stack.mailbox
        .waitFor((m) => m.to[0] === emailOf(handle) && !m.text.includes('/validate-move/'), 30_000)
        .catch(() => undefined),
    ),
  );
  const mailsPerStep = new Map(
    validators.map((handle) => {
      const perSubject = new Map<string, number>();
      for (const mail of stack.mailbox.messages().filter((m) => m.to[0] === emailOf(handle))) {
        // The subject without its list of services: what the mail is (code, done…).
        const subject = mail.subject.replace(/^\[[^\]]*\]\s*/, '');
        perSubject.set(subject, (perSubject.get(subject) ?? 0) + 1);
      }
      return [handle, perSubject];
    }),
  );
  const sample = await runSingleTaskSample(stack, log, options.sampleStories, options.concurrency);
  return {
    items: view.counts.total,
    recordSeconds,
    createStatus: created.status,
    acceptMs,
    applySeconds,
    totalSeconds,
    counts: view.counts,
    state: view.state,
    mailsPerStep,
    workerRssBefore,
    workerRssPeak,
    sample,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(', '),
  };
}

/** The listing's accounts are 'lk<n>-ovh' with mail 'lk<n>@bench.test' (scripts/bench/index.ts). */
const emailOf = (handle: string) => `${handle.replace(/-ovh$/, '')}@bench.test`;

/** The same kind of change as single tasks, closed loop: ask, both accept, applied (the stories' code). */
async function runSingleTaskSample(
  stack: BenchStack,
  log: (line: string) => void,
  count: number,
  concurrency: number,
) {
  log(`single-task sample: ${count} stories`);
  await seedStories(stack, SAMPLE_CAST, count);
  const latencies = new StoryLatencies();
  const stories = Array.from({ length: count }, (_, i) => i);
  const sessions = await openSessions(stack, log, SAMPLE_CAST, stories, latencies);
  const started = performance.now();
  await pool(log, stories, concurrency, (i) => runStory(stack, SAMPLE_CAST, sessions[i], i, latencies));
  return { stories: count, seconds: (performance.now() - started) / 1000, concurrency };
}

export function printMove(log: (line: string) => void, r: MoveResult) {
  const perTask = r.sample.seconds / r.sample.stories;
  const extrapolated = perTask * r.items;
  const mails = [...r.mailsPerStep]
    .map(
      ([handle, perSubject]) => `${handle}: ${[...perSubject].map(([s, n]) => `${n} × "${s}"`).join(', ')}`,
    )
    .join('; ');
  const exactlyOne = [...r.mailsPerStep.values()].every((perSubject) =>
    [...perSubject.values()].every((n) => n === 1),
  );
  log(`\n| move of ${r.items} services (load average ${r.load}) | value | target |\n| --- | --- | --- |`);
  log(`| create (answer ${r.createStatus}) until recorded | ${r.recordSeconds.toFixed(1)} s | |`);
  log(
    `| accepts (${r.acceptMs.length} validators) | ${r.acceptMs.map((v) => `${v.toFixed(0)} ms`).join(', ')} | |`,
  );
  log(`| last acceptance sent -> all items applied | ${r.applySeconds.toFixed(1)} s | < 30 s |`);
  log(
    `| outcome | ${r.state}: ${r.counts.applied} applied, ${r.counts.skipped} skipped, ${r.counts.refused} refused, ${r.counts.remaining} remaining | all applied |`,
  );
  log(
    `| mails per validator per step | ${mails} (${exactlyOne ? 'each exactly 1' : 'NOT exactly 1'}) | exactly 1 |`,
  );
  log(
    `| worker RSS before the accepts / peak during the apply | ${mib(r.workerRssBefore)} / ${mib(r.workerRssPeak)} | |`,
  );
  log(`| move, create to all applied | ${r.totalSeconds.toFixed(1)} s | |`);
  log(
    `| single tasks: ${r.sample.stories} stories at concurrency ${r.sample.concurrency} (ask, both accept, applied) | ${r.sample.seconds.toFixed(1)} s, ${(r.sample.stories / r.sample.seconds).toFixed(2)}/s | |`,
  );
  log(
    `| single tasks extrapolated to ${r.items} | ${extrapolated.toFixed(0)} s (${(extrapolated / 3600).toFixed(1)} h) | |`,
  );
  log(
    `| single tasks extrapolated / move, create to all applied | ${(extrapolated / r.totalSeconds).toFixed(1)} × | |`,
  );
}
