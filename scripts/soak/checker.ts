import type { Client } from '@temporalio/client';
import type { Db } from '../../lib/db';
import type { RefusedMail, StoredMail } from '../../lib/mailbox';
import type { HttpSession } from '../bench/http';
import type { InjectedFault } from './faults';
import { storyParties, type Attempt, type Story } from './load';
import {
  askerAttentionOutcome,
  attentionFlags,
  copiesOf,
  mailOutcome,
  namedAsRefused,
  refusedForGood,
} from './mail-checks';
import { checkMoves, moveMailIdentity, type MoveCheckResult, type ObservedWrite } from './move-checker';
import { isMoveStory } from './moves';
import { judgeRetries, resendsAsked } from './retries';
import { visibleWorkflows, workflowOutcome } from './visibility';

/**
 * The checker: it knows the stack only from the outside — the database's rows, the mails in the mailbox,
 * Temporal's visibility (and each workflow's result), the API's answers — and what the customers were told.
 * It never asks the code under test for its state. Each invariant lists its violations, one line each.
 */
export const INVARIANTS = {
  oneFinalState:
    'every request with an id (task, move, move item) ends in exactly one final state, the same in the API, the read model, the audit log and the workflow',
  toldTheTruth:
    'the final state is what the customers were told (accepted by all: done; refused; cancelled; left: expired)',
  appliedOnce:
    'every change or move item that reached done was applied exactly once; nothing not done (excluded, refused...) changed a contact',
  codesKept: 'no validator held a code that stopped working without a resend they asked for',
  mailsSent:
    'every (task or move, step, person) got its mail, or the mail server refused it for good and it said so (needs attention)',
  oneMailEach:
    'no (task or move, step, person) got two different mails (the same mail again, same Message-ID and content, is counted apart)',
  no5xx:
    'no 5xx but 503 with Retry-After while a dependency was down; no request unanswered but while the API was down',
  converged: 'every retry of a change or move request converged on the same task or move',
  exclusive:
    'a single task and a move never held the same (service, role): refused at request time, both ways',
  storiesPlayed:
    'every customer got the answers the guide promises (no unexpected refusal, nothing given up)',
} as const;
export type Invariant = keyof typeof INVARIANTS;

export interface CheckInput {
  db: Db;
  client: Client;
  mails: StoredMail[];
  /** What the mailbox refused (lib/mailbox.ts): a 5xx at the end of a mail's data names that mail. */
  refusals: RefusedMail[];
  stories: Story[];
  attempts: Attempt[];
  faults: InjectedFault[];
  /** The session of each story's asker, to read the task through the API as the customer does. */
  askerSessions: Map<number, HttpSession>;
}

export interface CheckResult {
  violations: Record<Invariant, string[]>;
  /**
   * The same mail (same Message-ID, same content, so the same code) delivered more than once, each with the fault
   * that explains it: the sender could not know the first went (the mail server withheld its answer, or the
   * sender died before recording it), and mail is at least once. A mailbox shows it once (one Message-ID).
   * Reported, target 0; not a violation (a second, different mail is: oneMailEach).
   */
  resentCopies: string[];
  /**
   * A change or move request retried after the task or move its first try made had ended, which so made a new one
   * (the API's documented answer: docs/decisions/moves.md): reported, not a violation.
   */
  newAfterEnd: string[];
  /** Mails the mail server refused for good while the task said so (needs attention): reported. */
  refusedAndSaid: number;
  /** Logins the API shed (503 busy with Retry-After, its documented cap on password hashes at once): reported. */
  shedLogins: string[];
  tasks: number;
  statesSeen: Record<string, number>;
  /** The move section's own figures (move-checker.ts). */
  moves: MoveCheckResult;
}

const FINAL_STATES = ['done', 'refused', 'expired', 'aborted'];
/** The audit event that ends a task in each final state. */
const TERMINAL_EVENTS: Record<string, string[]> = {
  done: ['applied'],
  refused: ['refused', 'refusedAtApply'],
  expired: ['expired'],
  aborted: ['cancelled'],
};
const ALL_TERMINAL_EVENTS = Object.values(TERMINAL_EVENTS).flat();
/** The end mail's template for each final state: to validators (and informed, when there is a second). */
const END_TEMPLATES: Record<string, { validators: string; informed: string; asker: boolean }> = {
  done: { validators: 'done', informed: 'doneInformed', asker: false },
  refused: { validators: 'refused', informed: 'refused', asker: true },
  expired: { validators: 'expired', informed: 'expired', asker: true },
  aborted: { validators: 'aborted', informed: 'aborted', asker: true },
};
/**
 * After a dependency is back, requests it held may still answer 503 for this long: a workflow task owned by a
 * killed or paused worker waits for its 10 s timeout, and a new request waits up to TASK_REGISTRATION_TIMEOUT
 * (30 s) for its task to be registered.
 */
const RECOVERY_GRACE_MS = 30_000;

/** The Message-ID of an account's mails about an email change (api/routes/me.ts). */
const ACCOUNT_MAIL = /^<email-change-\d+\.\w+@contacts>$/;

/** A mail's identity as sent: <task-ID.STEP.HANDLE@contacts>, one per (task, step, person). */
export function mailIdentity(mail: Pick<StoredMail, 'messageId'>) {
  const match = /^<task-(\d+)\.(.+)\.([^.@]+)@contacts>$/.exec(mail.messageId);
  if (!match) return undefined;
  return { taskId: Number(match[1]), step: match[2], handle: match[3] };
}

export async function check(input: CheckInput): Promise<CheckResult> {
  const violations = Object.fromEntries(Object.keys(INVARIANTS).map((key) => [key, []])) as unknown as Record<
    Invariant,
    string[]
  >;
  const flag = (invariant: Invariant, line: string) => violations[invariant].push(line);

  const tasks = await input.db.contactChangeTask.findMany({
    include: { validators: true, events: { orderBy: { id: 'asc' } } },
    orderBy: { id: 'asc' },
  });
  const services = await input.db.service.findMany({ include: { admin: true, tech: true, billing: true } });
  const observed = await input.db.$queryRaw<{ service_id: number; count: bigint }[]>`
    SELECT service_id, count(*) AS count FROM soak_observed_contact_change GROUP BY service_id`;
  const changesOf = new Map(observed.map((row) => [row.service_id, Number(row.count)]));
  const writes = await observedWrites(input.db);
  const workflows = await visibleWorkflows(input.client);
  const statesSeen: Record<string, number> = {};

  // A move's items are checked with their move (move-checker.ts): their run is the move's.
  const singles = tasks.filter((task) => task.moveId === null);
  for (const task of singles) {
    const where = `task ${task.id} (${task.serviceName})`;
    statesSeen[task.state] = (statesSeen[task.state] ?? 0) + 1;
    // One final state, the same everywhere.
    if (!FINAL_STATES.includes(task.state)) flag('oneFinalState', `${where} is still ${task.state}`);
    const terminal = task.events.filter((event) => ALL_TERMINAL_EVENTS.includes(event.action));
    if (terminal.length !== 1 || !(TERMINAL_EVENTS[task.state] ?? []).includes(terminal[0].action)) {
      flag(
        'oneFinalState',
        `${where}: state ${task.state}, audit log ends with [${terminal.map((e) => e.action)}]`,
      );
    }
    if (task.events.filter((event) => event.action === 'created').length !== 1)
      flag('oneFinalState', `${where}: not exactly one "created" in the audit log`);
    const workflow = workflows.get(`${task.workflowId}/${task.runId}`);
    if (!workflow) flag('oneFinalState', `${where}: its workflow is not in Temporal's visibility`);
    else {
      if (workflow.status !== 'COMPLETED') flag('oneFinalState', `${where}: workflow ${workflow.status}`);
      if (workflow.searchState !== task.state)
        flag(
          'oneFinalState',
          `${where}: visibility says ${workflow.searchState}, the read model ${task.state}`,
        );
      // Only a closed run has a result: asking a running one waits for its end, which may never come.
      const outcome =
        workflow.status === 'COMPLETED'
          ? await workflowOutcome(input.client, task.workflowId, task.runId ?? undefined)
          : task.state;
      if (outcome !== task.state)
        flag('oneFinalState', `${where}: the workflow ended ${outcome}, the read model says ${task.state}`);
    }
    // Applied exactly once; nothing else changed a contact.
    const applied = task.events.filter((event) => event.action === 'applied').length;
    if (applied !== (task.state === 'done' ? 1 : 0))
      flag('appliedOnce', `${where}: ${task.state} with ${applied} "applied" audit events`);
  }

  // What the customers saw, story by story.
  const tasksByService = groupBy(tasks, (task) => task.serviceName);
  const newAfterEnd: string[] = [];
  for (const story of input.stories.filter((s) => !isMoveStory(s.kind))) {
    const { service, admin, tech, newcomer } = storyParties(story.index);
    const where = `story ${story.index} (${story.kind}, ${service})`;
    const ids = [...new Set(story.taskIds)];
    const rows = tasksByService.get(service) ?? [];
    if (ids.length > 1) flag('converged', `${where}: the change request answered tasks ${ids.join(', ')}`);
    const retries = judgeRetries(
      rows.map((task) => ({ id: task.id, madeAt: task.dateRequest.getTime(), endedAt: endOf(task) })),
      input.attempts.filter((attempt) => attempt.story === story.index && attempt.op === 'changeContact'),
    );
    for (const line of retries.diverged) flag('converged', `${where}: task ${line}`);
    newAfterEnd.push(...retries.newAfterEnd.map((line) => `${where}: task ${line}`));
    for (const surprise of story.surprises) flag('storiesPlayed', `${where}: ${surprise}`);
    for (const refused of story.deliveredCodeRefused) flag('codesKept', `${where}: ${refused}`);
    if (ids.length > 0 && !rows.some((row) => row.id === ids[0]))
      flag('oneFinalState', `${where}: task ${ids[0]} was answered but is not in the database`);
    // The task the customers were answered (a retry after an earlier one ended makes a new one); the ones before
    // it are held to one final state with the others above.
    const row = rows.find((task) => task.id === ids[0]) ?? (rows.length === 1 ? rows[0] : undefined);
    // Contacts: the new tech contact if and only if done, and through exactly one change of the row.
    const serviceRow = services.find((s) => s.name === service)!;
    const doneTasks = rows.filter((task) => task.state === 'done').length;
    const expectedTech = doneTasks > 0 ? newcomer : tech;
    if (
      serviceRow.tech.handle !== expectedTech ||
      serviceRow.admin.handle !== admin ||
      serviceRow.billing.handle !== admin
    )
      flag(
        'appliedOnce',
        `${where}: contacts ${serviceRow.admin.handle}/${serviceRow.tech.handle}/${serviceRow.billing.handle} after ${rows.map((t) => t.state).join(', ') || 'no task'}`,
      );
    const changes = changesOf.get(serviceRow.id) ?? 0;
    if (changes !== doneTasks)
      flag(
        'appliedOnce',
        `${where}: the service's contacts were written ${changes} times, its tasks are ${rows.map((t) => t.state).join(', ') || 'missing'}`,
      );
    if (!row) continue;
    const expected = expectedEnd(story);
    if (expected && row.state !== expected)
      flag('toldTheTruth', `${where}: task ${row.id} is ${row.state}, the customers were told ${expected}`);
    const session = input.askerSessions.get(story.index);
    if (session) {
      const shown = await session.send('GET', `/1.0/me/task/contactChange/${row.id}`).catch(() => undefined);
      if (shown?.json?.state !== row.state)
        flag(
          'oneFinalState',
          `${where}: the API shows task ${row.id} ${shown?.json?.state ?? `(${shown?.status})`}, the read model ${row.state}`,
        );
    }
  }

  const { resentCopies, refusedAndSaid } = checkMails(input, singles, flag);
  const shedLogins = checkAnswers(input, flag);
  const moves = await checkMoves(input, tasks, writes, flag);
  return {
    violations,
    newAfterEnd: [...newAfterEnd, ...moves.newAfterEnd],
    resentCopies: [...resentCopies, ...moves.resentCopies],
    refusedAndSaid: refusedAndSaid + moves.refusedAndSaid,
    shedLogins,
    tasks: singles.length,
    statesSeen,
    moves,
  };
}

/** When a task stopped waiting for decisions: a refusal, a cancel, the expiry, or its last acceptance. */
export function stoppedWaiting(events: { action: string; createdAt: Date }[], validators: number) {
  let accepted = 0;
  for (const event of events) {
    if (event.action === 'accepted') accepted += 1;
    if (['refused', 'cancelled', 'expired'].includes(event.action) || accepted === validators)
      return event.createdAt.getTime();
  }
  return undefined;
}

/** When a task ended: its terminal audit event (or the date the read model has), if it has. */
function endOf(task: { dateDone: Date | null; events: { action: string; createdAt: Date }[] }) {
  const terminal = task.events.find((event) => ALL_TERMINAL_EVENTS.includes(event.action));
  return (terminal?.createdAt ?? task.dateDone)?.getTime();
}

/** The end a story's customers were promised by the answers they got; undefined when they were told nothing definite. */
export function expectedEnd(story: Story): string | undefined {
  const { admin, newcomer } = storyParties(story.index);
  if (story.kind === 'expire') return 'expired';
  if (story.cancelled) return 'aborted';
  if (story.refusedBy) return 'refused';
  if (story.accepted.includes(admin) && story.accepted.includes(newcomer)) return 'done';
  return undefined;
}

type Flag = (invariant: Invariant, line: string) => void;
type TaskRow = Awaited<ReturnType<Db['contactChangeTask']['findMany']>>[number] & {
  validators: { handle: string; status: string }[];
  events: { action: string; detail: unknown; createdAt: Date }[];
};

/** A (task, step, person) as the checker names it: `task|step|handle`, the step as in the Message-ID. */
const identityKey = (taskId: number, step: string, handle: string) => `${taskId}|${step}|${handle}`;
const taskMailKey = (mail: Pick<StoredMail, 'messageId'>) => {
  const identity = mailIdentity(mail);
  return identity && identityKey(identity.taskId, identity.step, identity.handle);
};

/**
 * Mails per (task, step, person), by Message-ID (one per (task, step, person), stable across retries), against
 * what each task calls for: its opening mails (a code to each validator, the notice to each informed person), a
 * fresh code to each validator a resend named (its k-th `codeResent` audit event is step resend-k), a reminder to
 * the validators still awaited when it expired, and the end mail of its final state to everyone. Each delivered,
 * or refused for good by the mail server while the task said so (mail-checks.ts). Codes: a validator gets at most
 * one different code plus one per resend asked (a retried send mails the same code: codes are derived).
 */
function checkMails(input: CheckInput, tasks: TaskRow[], flag: Flag) {
  const delivered = new Map<string, StoredMail[]>();
  for (const mail of input.mails) {
    // An account's own mails (confirming a new email address) belong to no task.
    if (ACCOUNT_MAIL.test(mail.messageId)) continue;
    if (moveMailIdentity(mail)) continue; // checked with its move (move-checker.ts)
    const key = taskMailKey(mail);
    if (!key) {
      flag(
        'mailsSent',
        `mail ${mail.messageId || '(no Message-ID)'} "${mail.subject}" names no task, step and person`,
      );
      continue;
    }
    delivered.set(key, [...(delivered.get(key) ?? []), mail]);
  }
  const mails = { delivered, refused: refusedForGood(input.refusals, taskMailKey) };
  const copies = copiesOf(delivered, input.faults, (key) => `task ${key.replaceAll('|', ' ')}`);
  for (const line of copies.different) flag('oneMailEach', line);
  const storyOf = new Map(input.stories.map((story) => [storyParties(story.index).service, story]));
  let refusedAndSaid = 0;

  for (const task of tasks) {
    const where = `task ${task.id} (${task.serviceName})`;
    const validators = task.validators.map((v) => v.handle);
    const said = namedAsRefused(task.events);
    const expect = (step: string, handle: string, what: string) => {
      const outcome = mailOutcome(
        identityKey(task.id, step, handle),
        mails,
        (h) => said.has(h),
        handle,
        what,
      );
      if (outcome === 'refusedAndSaid') refusedAndSaid += 1;
      else if (outcome !== 'delivered') flag('mailsSent', `${where}: ${outcome}`);
    };
    for (const handle of validators) expect('created.code', handle, 'code mail');
    for (const handle of task.informed) expect('created.informedCreated', handle, 'notice of the request');
    task.events
      .filter((event) => event.action === 'codeResent')
      .forEach((event, i) => {
        for (const handle of (event.detail as { validators?: string[] }).validators ?? [])
          expect(`resend-${i + 1}.code`, handle, `fresh code of resend ${i + 1}`);
      });
    const end = END_TEMPLATES[task.state];
    if (end) {
      const recipients = [
        ...validators.map((handle) => [handle, end.validators] as const),
        ...task.informed.map((handle) => [handle, end.informed] as const),
        ...(end.asker && !validators.includes(task.askingAccount)
          ? [[task.askingAccount, end.validators] as const]
          : []),
      ];
      for (const [handle, template] of recipients) expect(`end.${template}`, handle, `"${template}" mail`);
    }
    if (task.state === 'expired')
      for (const validator of task.validators.filter((v) => v.status === 'pending'))
        expect('reminder.reminder', validator.handle, 'reminder');
    const attentionKey = identityKey(task.id, 'attention.needsAttention', task.askingAccount);
    const attention = askerAttentionOutcome({
      asker: task.askingAccount,
      mailed: mails.delivered.has(attentionKey) || mails.refused.has(attentionKey),
      flags: attentionFlags(task.events),
      stoppedWaitingAt: stoppedWaiting(task.events, validators.length),
    });
    if (attention) flag('mailsSent', `${where}: ${attention}`);

    // Codes: the first, and one more per resend asked, at most.
    const story = storyOf.get(task.serviceName);
    for (const handle of validators) {
      const codes = new Set(
        input.mails
          .filter((mail) => mailIdentity(mail)?.taskId === task.id && mailIdentity(mail)?.handle === handle)
          .map((mail) => /#code=(\w+)/.exec(mail.text)?.[1])
          .filter(Boolean),
      );
      const allowed = 1 + (story ? resendsAsked(input.attempts, story.index, handle) : 0);
      if (codes.size > allowed)
        flag(
          'codesKept',
          `${where}: ${handle} received ${codes.size} different codes, asked for ${allowed - 1} resends`,
        );
    }
  }
  return { resentCopies: copies.sameAgain, refusedAndSaid };
}

/** Every answer the load generator got, against the windows in which a dependency or the API was down. */
function checkAnswers(input: CheckInput, flag: Flag): string[] {
  const shedLogins: string[] = [];
  const overlaps = (attempt: Attempt, fault: InjectedFault) =>
    attempt.startedAt <= fault.endedAt + RECOVERY_GRACE_MS && attempt.endedAt >= fault.startedAt;
  const apiDown = (fault: InjectedFault) => fault.target === 'api';
  const isMailFault = (fault: InjectedFault) => fault.kind === 'smtpRefuse' || fault.kind === 'smtpHang';
  for (const attempt of input.attempts) {
    const where = `story ${attempt.story} ${attempt.op} at ${new Date(attempt.startedAt).toISOString()}`;
    if (attempt.error !== undefined) {
      if (!input.faults.some((fault) => apiDown(fault) && overlaps(attempt, fault)))
        flag('no5xx', `${where}: no answer (${attempt.error}) while the API was up`);
      continue;
    }
    if (attempt.status === undefined || attempt.status < 500) continue;
    // The API's own load shedding, documented (docs/security.md): at most 4 password hashes at once, a login
    // beyond that answered 503 busy with Retry-After at once, which a careful client retries.
    if (attempt.op === 'login' && attempt.status === 503 && attempt.reason === 'busy' && attempt.retryAfter) {
      shedLogins.push(where);
      continue;
    }
    if (attempt.status !== 503 || !attempt.retryAfter)
      flag(
        'no5xx',
        `${where}: ${attempt.status} ${attempt.reason ?? ''}${attempt.retryAfter ? '' : ' without Retry-After'}`,
      );
    // The mail server is a dependency of an email change (its confirmation is mailed before the answer).
    else if (
      attempt.reason === 'mailUnavailable' &&
      input.faults.some((f) => isMailFault(f) && overlaps(attempt, f))
    )
      continue;
    else if (!input.faults.some((fault) => fault.dependencyDown && overlaps(attempt, fault)))
      flag('no5xx', `${where}: 503 ${attempt.reason} while every dependency was up`);
  }
  return shedLogins;
}

/** Every write of a service's contacts the soak's trigger recorded, role by role. */
async function observedWrites(db: Db): Promise<ObservedWrite[]> {
  const rows = await db.$queryRaw<
    {
      service_id: number;
      old_admin: number;
      new_admin: number;
      old_tech: number;
      new_tech: number;
      old_billing: number;
      new_billing: number;
    }[]
  >`SELECT service_id, old_admin, new_admin, old_tech, new_tech, old_billing, new_billing
      FROM soak_observed_contact_change ORDER BY id`;
  return rows.map((row) => ({
    serviceId: row.service_id,
    admin: [row.old_admin, row.new_admin],
    tech: [row.old_tech, row.new_tech],
    billing: [row.old_billing, row.new_billing],
  }));
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
