import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { Prisma } from '../generated/prisma/client';
import { serviceHolders, type Db } from '../lib/db';
import { codeDigest, deriveCode, hashCode } from '../lib/codes';
import type {
  ApplyChangeArgs,
  ApplyResult,
  AuditEntry,
  ContactChangeActivities,
  IssueCodesArgs,
  IssuedCodes,
  MailOutcome,
  OpenTaskArgs,
  OpenTaskResult,
  RecordTaskArgs,
  SendStepMailsArgs,
  Undeliverable,
} from '../workflows/contact-change.activities';
import {
  OPEN_STATES,
  type ContactType,
  type NeedsAttention,
  type ValidatorView,
} from '../workflows/contact-change.messages';
import {
  END_STATE_OF_APPLY_REFUSAL,
  recheckAtApply,
  type ApplyRefusal,
  type KnownAccount,
  type ServiceContacts,
} from '../domain/contact-rules';
import { roleAssignment } from '../domain/roles';
import { isOpen, type TaskRequest } from '../domain/tasks';
import { renderEmail, roleNames, type EmailKind, type Language, type RenderedEmail } from './email-templates';
import { MailRejected, type Mailer } from './mailer';
import { createMoveActivities } from './moves';
import type { ContactMoveActivities } from '../workflows/contact-move.activities';

export interface ActivityDeps {
  db: Db;
  mailer: Mailer;
  codeHashKey: string;
  publicBaseUrl: string;
}

/**
 * How long a mail's claim holds against another attempt: past the longest a send can take (the mailer's own
 * timeouts, activities/mailer.ts) and a worker paused or starved for half a minute. A claim older than this is
 * an attempt that died before it could say whether its mail went: the mail is sent again (at least once).
 */
export const MAIL_CLAIM_LEASE_MS = 40_000;

/**
 * How long the apply may spend on the end mails it is given, well inside its activity's 30 s: past it they are
 * left to the mail activity (a slow relay must not time the apply out).
 */
const END_MAILS_BUDGET_MS = 10_000;

interface OutgoingTaskMail {
  /** The workflow's step (created, resend-1, reminder, end): with the kind, it names the mail. */
  step: string;
  recipient: string;
  kind: EmailKind;
}

/** A mail's step as recorded: the workflow's step and what the mail is (its code, or its template). */
const mailStep = (mail: OutgoingTaskMail) => `${mail.step}/${mail.kind}`;

/** The idempotency key of one mail: each kind of mail of a step goes at most once to each recipient of a task. */
const mailKey = (taskId: number, mail: OutgoingTaskMail) => `${taskId}:${mailStep(mail)}:${mail.recipient}`;

export const expiryFormats = new Map<Language, Intl.DateTimeFormat>();
/** Building an Intl formatter costs far more than using one: one per language, kept. */
export function expiryFormat(language: Language): Intl.DateTimeFormat {
  let format = expiryFormats.get(language);
  if (!format) {
    format = new Intl.DateTimeFormat(language, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
    expiryFormats.set(language, format);
  }
  return format;
}

/** A unique key refused the write: Prisma's own code, or PostgreSQL's (23505) for a raw statement. */
function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  return error.code === 'P2002' || /"originalCode":"23505"/.test(JSON.stringify(error.meta ?? {}));
}

// Prisma's codes for a value or a constraint the database refuses (too long, unique, foreign key, null, check).
const CONSTRAINT_ERRORS = new Set(['P2000', 'P2002', 'P2003', 'P2004', 'P2011', 'P2012', 'P2014']);

/** A write the database refuses as such (SQLSTATE class 23, integrity constraint): trying again changes nothing. */
function isConstraintViolation(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (CONSTRAINT_ERRORS.has(error.code)) return true;
  // A raw statement's failure (P2010) carries PostgreSQL's own code in the driver adapter's error.
  return /"originalCode":"23\d{3}"/.test(JSON.stringify(error.meta ?? {}));
}

/** The activity, with a constraint violation made non-retryable (bounded retries are for what may pass). */
export function failingForGoodOnConstraint<A extends unknown[], R>(activity: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    try {
      return await activity(...args);
    } catch (error) {
      if (!isConstraintViolation(error)) throw error;
      throw ApplicationFailure.nonRetryable((error as Error).message, 'constraintViolation');
    }
  };
}

type SentEmailRow = {
  key: string;
  taskId?: number;
  moveId?: number;
  recipient: string;
  step: string;
  messageId: string;
};

/** sent_email rows as a record set `x` with the table's columns, for one statement over all of a step's mails. */
function sentEmailRecords(rows: SentEmailRow[]): Prisma.Sql {
  const records = rows.map((row) => ({
    key: row.key,
    task_id: row.taskId ?? null,
    move_id: row.moveId ?? null,
    recipient: row.recipient,
    step: row.step,
    message_id: row.messageId,
  }));
  return Prisma.sql`jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
    AS x(key text, task_id int, move_id int, recipient text, step text, message_id text)`;
}

/**
 * The claims of a step's mails, as a WITH clause named `claimed` (the keys this attempt claimed), taken right before
 * they go: each mail's row of its idempotency key, unless it was sent or another attempt claimed it within
 * MAIL_CLAIM_LEASE_MS. Two attempts of one step can run at once: a workflow task that timed out on a starved or
 * paused worker is retried on another while the first still runs its local activity, and an activity past its
 * timeout still runs on its worker. Without a claim both sent every mail (found by npm run soak: duplicate opening
 * mails). All of a step's mails in one statement (one per mail before: docs/performance.md, 2026-12-08), in the
 * order of their keys, so that two attempts of one step never wait on each other's rows crosswise.
 */
function claimedClause(rows: SentEmailRow[], attempt: string): Prisma.Sql {
  return Prisma.sql`claimed AS (
    INSERT INTO sent_email (key, task_id, move_id, recipient, step, message_id, claimed_by, claimed_at)
    SELECT DISTINCT ON (x.key) x.key, x.task_id, x.move_id, x.recipient, x.step, x.message_id,
           ${attempt}, now() AT TIME ZONE 'UTC'
      FROM ${sentEmailRecords(rows)}
     ORDER BY x.key
    ON CONFLICT (key) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, claimed_at = EXCLUDED.claimed_at
     WHERE sent_email.sent_at IS NULL
       AND (sent_email.claimed_at IS NULL
            OR sent_email.claimed_at < EXCLUDED.claimed_at - make_interval(secs => ${MAIL_CLAIM_LEASE_MS / 1000}))
    RETURNING key)`;
}

/**
 * The columns that say, beside a `claimed` clause, which mails this attempt claimed and which had gone out before
 * the statement (the rest another attempt is sending): `claimedKeys` and `sentKeys`, JSON arrays of keys.
 */
function claimOutcomeColumns(keys: string[]): Prisma.Sql {
  return Prisma.sql`COALESCE((SELECT json_agg(claimed.key) FROM claimed), '[]') AS "claimedKeys",
    COALESCE((SELECT json_agg(e.key) FROM sent_email e
               WHERE e.key = ANY(${keys}::text[]) AND e.sent_at IS NOT NULL), '[]') AS "sentKeys"`;
}

/** What one claiming statement found: the keys this attempt now holds, and the mails another attempt is sending. */
export interface Claims {
  attempt: string;
  claimed: Set<string>;
  elsewhere: SentEmailRow[];
}

interface ClaimOutcome {
  claimedKeys: string[];
  sentKeys: string[];
}

/** The outcome of a claiming statement (claimOutcomeColumns) for these rows: a row neither claimed nor sent is elsewhere. */
function claimsOf(rows: SentEmailRow[], attempt: string, { claimedKeys, sentKeys }: ClaimOutcome): Claims {
  const claimed = new Set(claimedKeys);
  const sent = new Set(sentKeys);
  return { attempt, claimed, elsewhere: rows.filter(({ key }) => !claimed.has(key) && !sent.has(key)) };
}

/** Claims these mails for a new attempt (claimedClause), in one statement. */
export async function claimMails(db: Db, rows: SentEmailRow[]): Promise<Claims> {
  const attempt = randomUUID();
  if (rows.length === 0) return { attempt, claimed: new Set(), elsewhere: [] };
  const [found] = await db.$queryRaw<ClaimOutcome[]>`
    WITH ${claimedClause(rows, attempt)}
    SELECT ${claimOutcomeColumns(rows.map((row) => row.key))}`;
  return claimsOf(rows, attempt, found);
}

/** Mails that did not go (refused, or the send failed): another attempt may send them at once. */
export async function releaseClaims(db: Db, keys: string[], attempt: string) {
  if (keys.length === 0) return;
  await db.sentEmail
    .deleteMany({ where: { key: { in: keys }, claimedBy: attempt, sentAt: null } })
    .catch(() => undefined); // a database that is down: the claims go stale instead
}

/** One mail ready to go: its sent_email row (the idempotency key, per task or move and step) and the mail. */
export interface PreparedMail {
  row: SentEmailRow;
  to: string;
  email: RenderedEmail;
}

/** Claims the prepared mails (claimMails), then sends those claimed (sendClaimed): a move's mails. */
export async function claimAndSend(db: Db, mailer: Mailer, step: string, mails: PreparedMail[]) {
  const claims = await claimMails(
    db,
    mails.map(({ row }) => row),
  );
  return sendClaimed(db, mailer, step, mails, claims);
}

/**
 * Sends the prepared mails this attempt claimed, all at once (the transport is pooled), then records those that
 * went in one statement and frees those that did not in another: the same for a task's mails and a move's. A mail
 * refused for good is not retried: it is reported, and the others still go. A send that failed otherwise fails
 * the attempt, to be retried, once the others are recorded. A mail another attempt is sending fails this one, to
 * be retried: by then it went, or its claim went stale.
 */
export async function sendClaimed(
  db: Db,
  mailer: Mailer,
  step: string,
  mails: PreparedMail[],
  { attempt, claimed, elsewhere }: Claims,
): Promise<Undeliverable[]> {
  const sending = mails.filter(({ row }) => claimed.has(row.key));
  const results = await Promise.allSettled(
    sending.map(({ row, to, email }) => mailer.send({ to, ...email, messageId: row.messageId })),
  );
  const went: SentEmailRow[] = [];
  const failed: string[] = [];
  const undeliverable: Undeliverable[] = [];
  let failure: { error: unknown } | undefined;
  results.forEach((result, i) => {
    const { row } = sending[i];
    if (result.status === 'fulfilled') return went.push(row);
    failed.push(row.key);
    if (result.reason instanceof MailRejected)
      undeliverable.push({ handle: row.recipient, response: result.reason.response });
    else failure ??= { error: result.reason };
  });
  await Promise.all([recordSentEmails(db, went), releaseClaims(db, failed, attempt)]);
  if (failure) throw failure.error;
  if (elsewhere.length > 0)
    throw ApplicationFailure.retryable(
      `the ${step} mails to ${elsewhere.map((row) => row.recipient).join(', ')} are being sent by another attempt`,
      'mailSentElsewhere',
    );
  return undeliverable;
}

/**
 * Once mails are out, that they went must land, or a retry would send them again: through a short database outage
 * it is retried here, within the mail activity's 20 s. Only a crash (or a pause past the claim's lease) between the
 * mail server's answers and this write can send a mail twice: a step's mails go at once and are recorded together,
 * so that window is the step's slowest send.
 */
export async function recordSentEmails(db: Db, rows: SentEmailRow[]) {
  if (rows.length === 0) return;
  const deadline = Date.now() + 15_000;
  for (let pauseMs = 100; ; pauseMs = Math.min(pauseMs * 2, 2_000)) {
    try {
      // A row is there (this attempt's claim) unless a stale claim was taken over and freed meanwhile.
      await db.$executeRaw`
        INSERT INTO sent_email (key, task_id, move_id, recipient, step, message_id, sent_at)
        SELECT DISTINCT ON (x.key) x.key, x.task_id, x.move_id, x.recipient, x.step, x.message_id,
               now() AT TIME ZONE 'UTC'
          FROM ${sentEmailRecords(rows)}
         ORDER BY x.key
        ON CONFLICT (key) DO UPDATE SET sent_at = EXCLUDED.sent_at, claimed_by = NULL, claimed_at = NULL`;
      return;
    } catch (error) {
      if (Date.now() + pauseMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** The validators' decisions written on their rows (a decided code is cleared): a statement for a WITH clause. */
function writeDecisions(taskId: number, validators: ValidatorView[]): Prisma.Sql {
  const decisions = JSON.stringify(
    validators.map(({ handle, status, wrongCodes }) => ({ handle, status, wrong_codes: wrongCodes })),
  );
  return Prisma.sql`
    UPDATE task_validator AS v
       SET status = x.status, failed_attempts = x.wrong_codes,
           decided_at = CASE WHEN x.status <> 'pending' THEN COALESCE(v.decided_at, now() AT TIME ZONE 'UTC')
                             ELSE v.decided_at END,
           code_hash = CASE WHEN x.status <> 'pending' THEN NULL ELSE v.code_hash END
      FROM jsonb_to_recordset(${decisions}::jsonb) AS x(handle text, status text, wrong_codes int)
     WHERE v.task_id = ${taskId} AND v.handle = x.handle`;
}

/** An audit entry of a task, written once (its dedupe key): a retried activity does not write it twice. */
function writeAudit(taskId: number, event: AuditEntry): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO audit_event (task_id, dedupe_key, actor, action, detail, source_ip)
    VALUES (${taskId}, ${event.dedupeKey}, ${event.actor}, ${event.action},
            ${JSON.stringify(event.detail ?? {})}::jsonb, ${event.sourceIp ?? null})
    ON CONFLICT DO NOTHING`;
}

/** What a task's mails say, to whom they go, and which of them this attempt claimed (claimedWithContext). */
type MailTask = TaskRequest & {
  validators: { handle: string; status: string }[];
  accounts: { handle: string; email: string; language: string }[];
} & ClaimOutcome;
type TaskOfMails = Omit<MailTask, 'accounts' | keyof ClaimOutcome>;

/** What the apply reads of its task: its service's holders (ids and handles) and the accounts the rules need. */
interface ApplyTask {
  state: string;
  serviceId: number;
  askingAccount: string;
  fromAccount: string;
  toAccount: string;
  contactTypes: string[];
  /** Null when the service is gone. */
  service: (ServiceContacts & { adminId: number; techId: number; billingId: number }) | null;
  accounts: (KnownAccount & { id: number })[];
}

/** How often the apply reads its service again when another write changed it meanwhile, before it fails the try. */
const APPLY_READS = 3;

export function createActivities(deps: ActivityDeps): ContactChangeActivities & ContactMoveActivities {
  const { db, mailer } = deps;

  /**
   * One statement, atomic on its own, in the normal case: the task, its validators, its role locks and the
   * creation's audit event (a transaction of six round trips before; per story, 2026-12-07). A retry finds the
   * row it already wrote (same run); a role held by another open task fails the whole statement on the lock's
   * key, and the task is then recorded as refused.
   */
  async function openTask(args: OpenTaskArgs): Promise<OpenTaskResult> {
    const row = {
      workflowId: args.workflowId,
      runId: args.runId,
      serviceId: args.serviceId,
      serviceType: args.serviceType,
      serviceName: args.serviceName,
      askingAccount: args.askingAccount,
      fromAccount: args.fromAccount,
      toAccount: args.toAccount,
      contactTypes: args.contactTypes,
      informed: args.informed,
      expiresAt: new Date(args.expiresAt),
      validators: { create: args.validators.map((handle) => ({ handle })) },
    };
    const { created } = args;
    try {
      const [opened] = await db.$queryRaw<{ id: number }[]>`
        WITH task AS (
          INSERT INTO contact_change_task (workflow_id, run_id, service_id, service_type, service_name,
                 asking_account, from_account, to_account, contact_types, informed, state, expires_at,
                 date_request, updated_at)
          VALUES (${args.workflowId}, ${args.runId}, ${args.serviceId}, ${args.serviceType}, ${args.serviceName},
                  ${args.askingAccount}, ${args.fromAccount}, ${args.toAccount}, ${args.contactTypes}::text[],
                  ${args.informed}::text[], 'validatingByCustomers',
                  ${args.expiresAt}::timestamptz AT TIME ZONE 'UTC',
                  now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
          ON CONFLICT (workflow_id, run_id) WHERE move_id IS NULL DO NOTHING
          RETURNING id
        ), validators AS (
          INSERT INTO task_validator (task_id, handle)
          SELECT task.id, handle FROM task, unnest(${args.validators}::text[]) AS handle
        ), locks AS (
          INSERT INTO open_role_lock (service_id, role, task_id)
          SELECT ${args.serviceId}, role, task.id FROM task, unnest(${args.contactTypes}::text[]) AS role
        ), audit AS (
          INSERT INTO audit_event (task_id, dedupe_key, actor, action, detail, source_ip)
          SELECT task.id, ${created.dedupeKey}, ${created.actor}, ${created.action},
                 ${JSON.stringify(created.detail ?? {})}::jsonb, ${created.sourceIp ?? null}
            FROM task
          ON CONFLICT DO NOTHING
        )
        SELECT id FROM task`;
      if (opened) return { taskId: opened.id, conflict: false };
      const existing = await db.contactChangeTask.findFirstOrThrow({
        where: { workflowId: args.workflowId, runId: args.runId, moveId: null },
      });
      return { taskId: existing.id, conflict: existing.reason === 'taskAlreadyOpen' };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const task = await db.contactChangeTask.create({
        data: { ...row, state: 'refused', reason: 'taskAlreadyOpen', dateDone: new Date() },
      });
      return { taskId: task.id, conflict: true };
    }
  }

  /**
   * One statement, atomic on its own: the task, its validators, the role lock and the audit event. It runs
   * at every step of every task, so it is one round trip instead of a transaction of eight (README, Performance).
   */
  async function recordTask({
    taskId,
    state,
    reason,
    validators,
    needsAttention,
    event,
  }: RecordTaskArgs): Promise<void> {
    const ended = !isOpen(state);
    await db.$executeRaw`
      WITH task AS (
        UPDATE contact_change_task
           SET state = ${state}, reason = ${reason ?? null},
               needs_attention = ${needsAttention ? JSON.stringify(needsAttention) : null}::jsonb,
               date_done = CASE WHEN ${ended}::boolean THEN COALESCE(date_done, now() AT TIME ZONE 'UTC') END
         -- A late retry of an earlier step must never take a task out of its final state (found by npm run soak:
         -- a retried workflow task wrote checkValidity over done, and the apply's retry then refused a change made).
         WHERE id = ${taskId} AND (state = ANY(${[...OPEN_STATES]}::text[]) OR state = ${state})
      ), decided AS (${writeDecisions(taskId, validators)}
      ), released AS (
        DELETE FROM open_role_lock WHERE ${ended}::boolean AND task_id = ${taskId}
      )
      ${writeAudit(taskId, event)}`;
  }

  /**
   * The last acceptance and the change in one activity task (docs/performance.md, 2026-12-07), then the end mails
   * it is given. Its first statement writes the acceptance and reads the task; a retry writes the same again.
   */
  async function applyChange(args: ApplyChangeArgs): Promise<ApplyResult> {
    const result = await acceptAndApply(args);
    if (!result.applied || !args.endMails) return result;
    const mailed = await endMailsOnce(args.taskId, args.endMails);
    return mailed ? { applied: true, mailed } : result;
  }

  /**
   * The end mails given to the apply, tried once: any failure (a mail server down, slow past END_MAILS_BUDGET_MS,
   * another attempt holding a mail's claim) is left to the workflow, which sends them with the mail activity and
   * its retries. A send still going on then holds its claim, so that no mail goes twice (claimMail).
   */
  async function endMailsOnce(
    taskId: number,
    { step, batches }: NonNullable<ApplyChangeArgs['endMails']>,
  ): Promise<MailOutcome | undefined> {
    const mails = batches.flatMap(({ template, recipients }) =>
      recipients.map((recipient): OutgoingTaskMail => ({ step, recipient, kind: template })),
    );
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), END_MAILS_BUDGET_MS);
    });
    const sent = sendMany(taskId, mails).then(
      ({ outcome }) => outcome,
      () => undefined,
    );
    try {
      return await Promise.race([sent, budget]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The last acceptance, the re-check and the change (applyChange), in two statements and no transaction (six
   * round trips, a transaction among them, before: docs/performance.md, 2026-12-08). The first writes the acceptance and reads the
   * task, its service's holders and the accounts the rules need; the change is written only if the service's
   * holders are still those the rules saw (a compare-and-set, where the transaction held the service's row lock
   * across four round trips). A service changed meanwhile (another task's apply, a move) is read and checked again.
   */
  async function acceptAndApply(args: ApplyChangeArgs): Promise<ApplyResult> {
    for (let reads = 1; ; reads++) {
      const task = await acceptedForApply(args);
      if (task.state === 'done') return { applied: true };
      const refusal = refusalAtApply(task);
      if (refusal) return { applied: false, reason: refusal, state: END_STATE_OF_APPLY_REFUSAL[refusal] };
      if (await changeIfUnchanged(args, task)) return { applied: true };
      if (reads === APPLY_READS)
        throw ApplicationFailure.retryable(
          `the service of task ${args.taskId} kept changing while the change was applied`,
          'serviceChangedMeanwhile',
        );
    }
  }

  /** Writes the last acceptance (a retry writes the same again) and reads what the apply checks, in one statement. */
  async function acceptedForApply({ taskId, accepted }: ApplyChangeArgs): Promise<ApplyTask> {
    const [task] = await db.$queryRaw<ApplyTask[]>`
      WITH decided AS (${writeDecisions(taskId, accepted.validators)}
      ), recorded AS (${writeAudit(taskId, accepted.event)}
      )
      SELECT t.state, t.service_id AS "serviceId", t.asking_account AS "askingAccount",
             t.from_account AS "fromAccount", t.to_account AS "toAccount", t.contact_types AS "contactTypes",
             CASE WHEN s.id IS NULL THEN NULL
                  ELSE json_build_object('adminId', s.admin_id, 'techId', s.tech_id, 'billingId', s.billing_id,
                                         'contactAdmin', a.handle, 'contactTech', h.handle,
                                         'contactBilling', b.handle) END AS service,
             COALESCE((SELECT json_agg(json_build_object('id', c.id, 'handle', c.handle,
                                                         'billingStanding', c.billing_standing))
                         FROM account c WHERE c.handle IN (t.from_account, t.to_account)), '[]') AS accounts
        FROM contact_change_task t
        LEFT JOIN (service s ${serviceHolders.joins}) ON s.id = t.service_id
       WHERE t.id = ${taskId}`;
    if (!task) throw ApplicationFailure.nonRetryable(`task ${taskId} does not exist`, 'unknownTask');
    return task;
  }

  /** The request-time rules that can change while a task waits (domain/contact-rules.ts), on what the apply read. */
  function refusalAtApply(task: ApplyTask): ApplyRefusal | undefined {
    if (!task.service) return 'roleNoLongerHeld';
    return recheckAtApply({
      ...task,
      contactTypes: task.contactTypes as ContactType[],
      service: task.service,
      accounts: new Map(task.accounts.map((account) => [account.handle, account])),
    });
  }

  /**
   * The change, the task done, its role released and the apply's audit event, in one statement, only if the
   * service's holders are still those read (PostgreSQL re-reads a row another transaction changed meanwhile before
   * it updates it): whether the change was written.
   */
  async function changeIfUnchanged({ taskId, event }: ApplyChangeArgs, task: ApplyTask): Promise<boolean> {
    const { service } = task;
    const toId = task.accounts.find((a) => a.handle === task.toAccount)!.id;
    const change = roleAssignment(task.contactTypes as ContactType[], toId);
    const [{ changed }] = await db.$queryRaw<{ changed: boolean }[]>`
      WITH contacts AS (
        UPDATE service
           SET admin_id = COALESCE(${change.adminId ?? null}::int, admin_id),
               tech_id = COALESCE(${change.techId ?? null}::int, tech_id),
               billing_id = COALESCE(${change.billingId ?? null}::int, billing_id),
               updated_at = now() AT TIME ZONE 'UTC'
         WHERE id = ${task.serviceId} AND admin_id = ${service!.adminId} AND tech_id = ${service!.techId}
           AND billing_id = ${service!.billingId}
        RETURNING id
      ), task AS (
        UPDATE contact_change_task
           SET state = 'done', date_done = now() AT TIME ZONE 'UTC', reason = NULL,
               updated_at = now() AT TIME ZONE 'UTC'
         WHERE id = ${taskId} AND EXISTS (SELECT 1 FROM contacts)
      ), released AS (
        DELETE FROM open_role_lock WHERE task_id = ${taskId} AND EXISTS (SELECT 1 FROM contacts)
      ), recorded AS (
        INSERT INTO audit_event (task_id, dedupe_key, actor, action, detail, source_ip)
        SELECT ${taskId}, ${event.dedupeKey}, ${event.actor}, ${event.action},
               ${JSON.stringify(event.detail ?? {})}::jsonb, ${event.sourceIp ?? null}
         WHERE EXISTS (SELECT 1 FROM contacts)
        ON CONFLICT DO NOTHING
      )
      SELECT EXISTS (SELECT 1 FROM contacts) AS changed`;
    return changed;
  }

  /**
   * Sends each mail not sent yet: one statement claims them all and reads the task and the recipients (claimed), the
   * claimed ones go at once, one statement records them (sendClaimed). Each round trip counts: a step cost two per
   * mail and one more before (docs/performance.md, 2026-12-08).
   */
  async function sendMany(taskId: number, mails: OutgoingTaskMail[]) {
    const rows = mails.map((mail) => sentEmailRowOf(taskId, mail));
    const { task, accounts, claims } = await claimedWithContext(taskId, rows);
    let prepared: PreparedMail[];
    try {
      prepared = await Promise.all(
        mails
          .filter((mail, i) => claims.claimed.has(rows[i].key))
          .map((mail) => prepareMail(task, accounts, mail)),
      );
    } catch (error) {
      await releaseClaims(db, [...claims.claimed], claims.attempt);
      throw error;
    }
    const undeliverable = await sendClaimed(db, mailer, mails[0]?.step ?? '', prepared, claims);
    return { outcome: { undeliverable } satisfies MailOutcome, task };
  }

  function sentEmailRowOf(taskId: number, mail: OutgoingTaskMail): SentEmailRow {
    const step = mailStep(mail);
    const messageId = `<task-${taskId}.${step.replace(/[^\w.-]/g, '.')}.${mail.recipient}@contacts>`;
    return { key: mailKey(taskId, mail), taskId, recipient: mail.recipient, step, messageId };
  }

  /** One mail of a task, rendered in its recipient's language. */
  async function prepareMail(
    task: TaskOfMails,
    accounts: MailTask['accounts'],
    mail: OutgoingTaskMail,
  ): Promise<PreparedMail> {
    const { recipient, kind } = mail;
    const account = accounts.find((a) => a.handle === recipient);
    if (!account)
      throw ApplicationFailure.nonRetryable(`account ${recipient} does not exist`, 'unknownAccount');
    const base = deps.publicBaseUrl.replace(/\/$/, '');
    const code = kind === 'code' ? codeOf(task, mail) : undefined;
    const language = account.language as Language;
    const email = await renderEmail(language, kind, {
      taskId: task.id,
      serviceName: task.serviceName,
      serviceType: task.serviceType,
      roles: roleNames(language, task.contactTypes),
      fromAccount: task.fromAccount,
      toAccount: task.toAccount,
      askingAccount: task.askingAccount,
      validators: task.validators,
      recipient,
      reason: task.reason ?? undefined,
      expiresAt: `${expiryFormat(language).format(task.expiresAt)} UTC`,
      code,
      resent: mail.step.startsWith('resend'),
      undeliverable: (task.needsAttention as NeedsAttention | null)?.handles.join(', '),
      // The fragment never reaches a server; `for` lets the page tell whoever else is logged in.
      validationLink: `${base}/validate/${task.id}${code ? `#code=${code}&for=${recipient}` : ''}`,
      requestsLink: `${base}/requests`,
    });
    return { row: sentEmailRowOf(task.id, mail), to: account.email, email };
  }

  /**
   * The claims of these mails (claimedClause), with the task and the recipients the mails need, in one statement:
   * five before (Prisma's task and its validators, the accounts, the sent mails, then a claim per mail).
   */
  async function claimedWithContext(taskId: number, rows: SentEmailRow[]) {
    const attempt = randomUUID();
    const handles = [...new Set(rows.map((row) => row.recipient))];
    const [found] = await db.$queryRaw<MailTask[]>`
      WITH ${claimedClause(rows, attempt)}
      SELECT t.id, t.workflow_id AS "workflowId", t.run_id AS "runId", t.service_name AS "serviceName",
             t.service_type AS "serviceType", t.contact_types AS "contactTypes", t.from_account AS "fromAccount",
             t.to_account AS "toAccount", t.asking_account AS "askingAccount", t.reason,
             t.expires_at AS "expiresAt", t.needs_attention AS "needsAttention",
             COALESCE((SELECT json_agg(json_build_object('handle', v.handle, 'status', v.status))
                         FROM task_validator v WHERE v.task_id = t.id), '[]') AS validators,
             COALESCE((SELECT json_agg(json_build_object('handle', a.handle, 'email', a.email,
                                                         'language', a.language))
                         FROM account a WHERE a.handle = ANY(${handles}::text[])), '[]') AS accounts,
             ${claimOutcomeColumns(rows.map((row) => row.key))}
        FROM contact_change_task t
       WHERE t.id = ${taskId}`;
    if (!found) {
      // No task, so nothing to send: the claims just taken go at once (a retry may find the task).
      await releaseClaims(
        db,
        rows.map((row) => row.key),
        attempt,
      );
      throw new Error(`task ${taskId} does not exist`);
    }
    const { accounts, claimedKeys, sentKeys, ...task } = found;
    return { task, accounts, claims: claimsOf(rows, attempt, { claimedKeys, sentKeys }) };
  }

  /** The code a code mail carries: derived, so that a retried send mails the very code a first try may have. */
  function codeOf(task: { id: number; workflowId: string; runId: string | null }, mail: OutgoingTaskMail) {
    return deriveCode(deps.codeHashKey, {
      workflowId: task.workflowId,
      runId: task.runId ?? '',
      taskId: task.id,
      handle: mail.recipient,
      step: mail.step,
    });
  }

  /**
   * Mails each validator named the code of this step, and the notices. The same step gives the same codes however
   * often it runs, so the digests are returned even for mails that went out on an earlier try.
   */
  async function issueCodes({ taskId, handles, step, notices }: IssueCodesArgs): Promise<IssuedCodes> {
    const codeMails = handles.map((recipient): OutgoingTaskMail => ({ step, recipient, kind: 'code' }));
    const noticeMails = (notices?.recipients ?? []).map((recipient): OutgoingTaskMail => ({
      step,
      recipient,
      kind: notices!.template,
    }));
    const { outcome, task } = await sendMany(taskId, [...codeMails, ...noticeMails]);
    const codeDigests = Object.fromEntries(
      codeMails.map((mail) => [
        mail.recipient,
        codeDigest(hashCode(deps.codeHashKey, taskId, mail.recipient, codeOf(task, mail))),
      ]),
    );
    return { codeDigests, ...outcome };
  }

  return {
    ...createMoveActivities(deps),
    openTask: failingForGoodOnConstraint(openTask),
    recordTask: failingForGoodOnConstraint(recordTask),
    applyChange: failingForGoodOnConstraint(applyChange),
    issueCodes,
    async sendStepMails({ taskId, step, batches }: SendStepMailsArgs) {
      const mails = batches.flatMap(({ template, recipients }) =>
        recipients.map((recipient): OutgoingTaskMail => ({ step, recipient, kind: template })),
      );
      return (await sendMany(taskId, mails)).outcome;
    },
  };
}
