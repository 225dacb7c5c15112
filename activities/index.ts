import { ApplicationFailure } from '@temporalio/activity';
import { Prisma } from '../generated/prisma/client';
import type { Db } from '../lib/db';
import { generateCode, hashCode } from '../lib/codes';
import type {
  ApplyResult,
  AuditEntry,
  ContactChangeActivities,
  IssueCodesArgs,
  OpenTaskArgs,
  OpenTaskResult,
  RecordTaskArgs,
  SendStepMailsArgs,
} from '../workflows/contact-change.activities';
import type { ContactType } from '../workflows/contact-change.messages';
import {
  END_STATE_OF_APPLY_REFUSAL,
  recheckAtApply,
  type ApplyRefusal,
  type ServiceContacts,
} from '../domain/contact-rules';
import { roleAssignment } from '../domain/roles';
import { isOpen } from '../domain/tasks';
import { renderEmail, roleNames, type EmailKind, type Language } from './email-templates';
import type { Mailer } from './mailer';

export interface ActivityDeps {
  db: Db;
  mailer: Mailer;
  codeHashKey: string;
  publicBaseUrl: string;
}

type Tx = Prisma.TransactionClient;

interface OutgoingTaskMail {
  /** The workflow's step (created, resend-1, reminder, end): with the kind, it names the mail. */
  step: string;
  recipient: string;
  kind: EmailKind;
  /** Only in the mail itself: never stored, never logged. */
  code?: string;
}

/** A mail's step as recorded: the workflow's step and what the mail is (its code, or its template). */
const mailStep = (mail: OutgoingTaskMail) => `${mail.step}/${mail.kind}`;

/** The idempotency key of one mail: each kind of mail of a step goes at most once to each recipient of a task. */
const mailKey = (taskId: number, mail: OutgoingTaskMail) => `${taskId}:${mailStep(mail)}:${mail.recipient}`;

function auditRow(taskId: number, event: AuditEntry) {
  return {
    taskId,
    dedupeKey: event.dedupeKey,
    actor: event.actor,
    action: event.action,
    detail: (event.detail ?? {}) as Prisma.InputJsonValue,
    sourceIp: event.sourceIp ?? null,
  };
}

async function appendAudit(tx: Tx, taskId: number, event: AuditEntry) {
  await tx.auditEvent.createMany({ data: [auditRow(taskId, event)], skipDuplicates: true });
}

const expiryFormats = new Map<Language, Intl.DateTimeFormat>();
/** Building an Intl formatter costs far more than using one: one per language, kept. */
function expiryFormat(language: Language): Intl.DateTimeFormat {
  let format = expiryFormats.get(language);
  if (!format) {
    format = new Intl.DateTimeFormat(language, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
    expiryFormats.set(language, format);
  }
  return format;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

export function createActivities(deps: ActivityDeps): ContactChangeActivities {
  const { db, mailer } = deps;

  async function openTask(args: OpenTaskArgs): Promise<OpenTaskResult> {
    const existing = await db.contactChangeTask.findFirst({
      where: { workflowId: args.workflowId, runId: args.runId },
    });
    if (existing) return { taskId: existing.id, conflict: existing.reason === 'taskAlreadyOpen' };
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
    try {
      const taskId = await db.$transaction(async (tx) => {
        const task = await tx.contactChangeTask.create({ data: { ...row, state: 'validatingByCustomers' } });
        await tx.openRoleLock.createMany({
          data: args.contactTypes.map((role) => ({ serviceId: args.serviceId, role, taskId: task.id })),
        });
        await appendAudit(tx, task.id, args.created);
        return task.id;
      });
      return { taskId, conflict: false };
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
  async function recordTask({ taskId, state, reason, validators, event }: RecordTaskArgs): Promise<void> {
    const ended = !isOpen(state);
    const decisions = JSON.stringify(
      validators.map(({ handle, status, wrongCodes }) => ({ handle, status, wrong_codes: wrongCodes })),
    );
    await db.$executeRaw`
      WITH task AS (
        UPDATE contact_change_task
           SET state = ${state}, reason = ${reason ?? null},
               date_done = CASE WHEN ${ended}::boolean THEN COALESCE(date_done, now() AT TIME ZONE 'UTC') END
         WHERE id = ${taskId}
      ), decided AS (
        UPDATE task_validator AS v
           SET status = x.status, failed_attempts = x.wrong_codes,
               decided_at = CASE WHEN x.status <> 'pending' THEN COALESCE(v.decided_at, now() AT TIME ZONE 'UTC')
                                 ELSE v.decided_at END,
               code_hash = CASE WHEN x.status <> 'pending' THEN NULL ELSE v.code_hash END
          FROM jsonb_to_recordset(${decisions}::jsonb) AS x(handle text, status text, wrong_codes int)
         WHERE v.task_id = ${taskId} AND v.handle = x.handle
      ), released AS (
        DELETE FROM open_role_lock WHERE ${ended}::boolean AND task_id = ${taskId}
      )
      INSERT INTO audit_event (task_id, dedupe_key, actor, action, detail, source_ip)
      VALUES (${taskId}, ${event.dedupeKey}, ${event.actor}, ${event.action},
              ${JSON.stringify(event.detail ?? {})}::jsonb, ${event.sourceIp ?? null})
      ON CONFLICT DO NOTHING`;
  }

  async function applyChange({ taskId, event }: { taskId: number; event: AuditEntry }): Promise<ApplyResult> {
    return db.$transaction(async (tx) => {
      const task = await tx.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
      if (task.state === 'done') return { applied: true };
      const checked = await checkPreconditions(tx, task);
      if ('refusal' in checked) {
        return {
          applied: false,
          reason: checked.refusal,
          state: END_STATE_OF_APPLY_REFUSAL[checked.refusal],
        };
      }
      const change = roleAssignment(task.contactTypes as ContactType[], checked.toId);
      await tx.service.update({ where: { id: task.serviceId }, data: change });
      await tx.contactChangeTask.update({
        where: { id: taskId },
        data: { state: 'done', dateDone: new Date(), reason: null },
      });
      await tx.openRoleLock.deleteMany({ where: { taskId } });
      await appendAudit(tx, taskId, event);
      return { applied: true };
    });
  }

  /** The request-time rules that can change while a task waits; locks the service row until commit. */
  async function checkPreconditions(
    tx: Tx,
    task: {
      serviceId: number;
      askingAccount: string;
      fromAccount: string;
      toAccount: string;
      contactTypes: string[];
    },
  ): Promise<{ refusal: ApplyRefusal } | { toId: number }> {
    const [service] = await tx.$queryRaw<ServiceContacts[]>`
      SELECT a.handle AS "contactAdmin", t.handle AS "contactTech", b.handle AS "contactBilling"
        FROM service s
        JOIN account a ON a.id = s.admin_id
        JOIN account t ON t.id = s.tech_id
        JOIN account b ON b.id = s.billing_id
       WHERE s.id = ${task.serviceId}
         FOR UPDATE OF s`;
    const accounts = await tx.account.findMany({
      where: { handle: { in: [task.fromAccount, task.toAccount] } },
    });
    if (!service) return { refusal: 'roleNoLongerHeld' };
    const refusal = recheckAtApply({
      ...task,
      contactTypes: task.contactTypes as ContactType[],
      service,
      accounts: new Map(accounts.map((account) => [account.handle, account])),
    });
    if (refusal) return { refusal };
    return { toId: accounts.find((a) => a.handle === task.toAccount)!.id };
  }

  /**
   * Once a mail is out, its record must land, or a retry of the activity would send it again: through a short
   * database outage it is retried here, within the mail activity's 20 s (the lookup before sending fails fast
   * instead, so a database that is down stops mail before it leaves). Only a crash in between can send twice.
   */
  async function recordSent(row: {
    key: string;
    taskId: number;
    recipient: string;
    step: string;
    messageId: string;
  }) {
    const deadline = Date.now() + 15_000;
    for (let pauseMs = 100; ; pauseMs = Math.min(pauseMs * 2, 2_000)) {
      try {
        await db.sentEmail.createMany({ data: [row], skipDuplicates: true });
        return;
      } catch (error) {
        if (Date.now() + pauseMs > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }

  /**
   * Sends each mail not sent yet, with one lookup of the task, the recipients and what already went out for the
   * whole batch: each database round trip counts (docs: performance).
   */
  async function sendMany(taskId: number, mails: OutgoingTaskMail[], alreadySent?: Set<string>) {
    const [sentKeys, task, accounts] = await Promise.all([
      alreadySent ?? sentKeysAmong(taskId, mails),
      db.contactChangeTask.findUniqueOrThrow({
        where: { id: taskId },
        include: { validators: { select: { handle: true, status: true } } },
      }),
      db.account.findMany({ where: { handle: { in: [...new Set(mails.map((mail) => mail.recipient))] } } }),
    ]);
    const base = deps.publicBaseUrl.replace(/\/$/, '');
    for (const mail of mails) {
      const { recipient, kind, code } = mail;
      const key = mailKey(taskId, mail);
      if (sentKeys.has(key)) continue;
      const account = accounts.find((a) => a.handle === recipient);
      if (!account)
        throw ApplicationFailure.nonRetryable(`account ${recipient} does not exist`, 'unknownAccount');
      const language = account.language as Language;
      const email = await renderEmail(language, kind, {
        taskId,
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
        // The fragment never reaches a server; `for` lets the page tell whoever else is logged in.
        validationLink: `${base}/validate/${taskId}${code ? `#code=${code}&for=${recipient}` : ''}`,
        requestsLink: `${base}/requests`,
      });
      const messageId = `<task-${taskId}.${mailStep(mail).replace(/[^\w.-]/g, '.')}.${recipient}@contacts>`;
      await mailer.send({ to: account.email, ...email, messageId });
      await recordSent({ key, taskId, recipient, step: mailStep(mail), messageId });
    }
  }

  /** Which of these mails went out already (by idempotency key). */
  async function sentKeysAmong(taskId: number, mails: OutgoingTaskMail[]): Promise<Set<string>> {
    const keys = mails.map((mail) => mailKey(taskId, mail));
    const sent = await db.sentEmail.findMany({ where: { key: { in: keys } }, select: { key: true } });
    return new Set(sent.map(({ key }) => key));
  }

  /** Draws a code for each validator whose code of this step is not out yet, stores its keyed hash, mails it. */
  async function issueCodes({ taskId, handles, step, notices }: IssueCodesArgs) {
    const codeMails = handles.map((recipient): OutgoingTaskMail => ({ step, recipient, kind: 'code' }));
    const noticeMails = (notices?.recipients ?? []).map((recipient): OutgoingTaskMail => ({
      step,
      recipient,
      kind: notices!.template,
    }));
    const [validators, sentKeys] = await Promise.all([
      db.taskValidator.findMany({ where: { taskId, handle: { in: handles } } }),
      sentKeysAmong(taskId, [...codeMails, ...noticeMails]),
    ]);
    const hashes: Record<string, string> = {};
    const mails: OutgoingTaskMail[] = [];
    for (const codeMail of codeMails) {
      const handle = codeMail.recipient;
      const stored = validators.find((v) => v.handle === handle)?.codeHash;
      if (stored && sentKeys.has(mailKey(taskId, codeMail))) {
        hashes[handle] = stored;
        continue;
      }
      const code = generateCode();
      hashes[handle] = hashCode(deps.codeHashKey, taskId, handle, code);
      await db.taskValidator.update({
        where: { taskId_handle: { taskId, handle } },
        data: { codeHash: hashes[handle], codeIssuedAt: new Date(), failedAttempts: 0 },
      });
      mails.push({ ...codeMail, code });
    }
    await sendMany(taskId, [...mails, ...noticeMails], sentKeys);
    return hashes;
  }

  return {
    openTask,
    recordTask,
    applyChange,
    issueCodes,
    async sendStepMails({ taskId, step, batches }: SendStepMailsArgs) {
      const mails = batches.flatMap(({ template, recipients }) =>
        recipients.map((recipient): OutgoingTaskMail => ({ step, recipient, kind: template })),
      );
      await sendMany(taskId, mails);
    },
  };
}
