import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { Prisma } from '../generated/prisma/client';
import { serviceHolders } from '../lib/db';
import { codeDigest, deriveCode, hashMoveCode } from '../lib/codes';
import { moveItemGroups, planMove } from '../lib/move-selection';
import { END_STATE_OF_APPLY_REFUSAL, recheckAtApply, type ServiceContacts } from '../domain/contact-rules';
import { countItems } from '../domain/moves';
import { ROLE_HOLDER } from '../domain/roles';
import type { AuditEntry, IssuedCodes } from '../workflows/contact-change.activities';
import { OPEN_STATES, type ContactType, type NeedsAttention } from '../workflows/contact-change.messages';
import type {
  AppliedChunks,
  ApplyMoveArgs,
  ContactMoveActivities,
  IssueMoveCodesArgs,
  ItemEffect,
  OpenedMove,
  OpenMoveArgs,
  RecordMoveArgs,
  SendMoveMailsArgs,
} from '../workflows/contact-move.activities';
import { OPEN_MOVE_STATES, type MoveCountsView } from '../workflows/contact-move.messages';
import { renderEmail, roleNames, type EmailKind, type Language } from './email-templates';
import {
  expiryFormat,
  failingForGoodOnConstraint,
  claimAndSend,
  type ActivityDeps,
  type PreparedMail,
} from './index';

type Tx = Prisma.TransactionClient;

/** Opening or ending a move writes each of its items (100,000 at most): far beyond Prisma's 5 s default. */
const BULK_TRANSACTION = { timeout: 9 * 60_000, maxWait: 30_000 };
const CHUNK_TRANSACTION = { timeout: 60_000, maxWait: 30_000 };
/** How often a running apply tells Temporal it is alive, whatever its chunks take (see applyMoveChunks). */
const KEEP_ALIVE_MS = 1000;
/** The advisory lock class of a move's opening (with the move's id): 'move' in ASCII. */
const OPEN_MOVE_LOCK = 0x6d6f7665;
/** Services named in a mail: the first ones, then a count of the others. */
const SERVICES_IN_MAIL = 5;

const OPEN_ITEM_STATES = [...OPEN_STATES];

async function appendMoveAudit(db: Tx | ActivityDeps['db'], moveId: number, event: AuditEntry) {
  await db.$executeRaw`
    INSERT INTO audit_event (move_id, dedupe_key, actor, action, detail, source_ip)
    VALUES (${moveId}, ${event.dedupeKey}, ${event.actor}, ${event.action},
            ${JSON.stringify(event.detail ?? {})}::jsonb, ${event.sourceIp ?? null})
    ON CONFLICT DO NOTHING`;
}

/** The counts of a move from its items (one grouped scan of the (move_id, state) index). */
async function countsOf(db: Tx | ActivityDeps['db'], moveId: number): Promise<MoveCountsView> {
  const counts = countItems(await moveItemGroups(db, moveId));
  return {
    total: counts.total,
    applied: counts.applied,
    skipped: counts.skipped,
    refused: counts.refused,
    remaining: counts.remaining,
  };
}

interface MoveMail {
  step: string;
  recipient: string;
  kind: EmailKind;
}

const moveMailStep = (mail: MoveMail) => `${mail.step}/${mail.kind}`;
const moveMailKey = (moveId: number, mail: MoveMail) =>
  `move-${moveId}:${moveMailStep(mail)}:${mail.recipient}`;

export function createMoveActivities(deps: ActivityDeps): ContactMoveActivities {
  const { db, mailer } = deps;

  async function openedMove(moveId: number): Promise<OpenedMove> {
    const move = await db.contactMove.findUniqueOrThrow({
      where: { id: moveId },
      include: { validators: { orderBy: { handle: 'asc' } } },
    });
    return {
      validators: move.validators.map(({ handle, items }) => ({ handle, items })),
      informed: move.informed,
      counts: await countsOf(db, moveId),
    };
  }

  async function openMove(args: OpenMoveArgs): Promise<OpenedMove> {
    const { moveId } = args;
    if (await db.contactMove.findUnique({ where: { id: moveId }, select: { id: true } }))
      return openedMove(moveId);
    const request = await db.contactMoveRequest.findUniqueOrThrow({ where: { id: moveId } });
    await db.$transaction(async (tx) => {
      // An attempt running beside this one (retried once its heartbeats stopped: its worker paused, say) waits
      // here for it, then finds the move opened; it must not fail on the other's rows (a constraint violation
      // fails the activity for good).
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${OPEN_MOVE_LOCK}::int, ${moveId}::int)`;
      if (await tx.contactMove.findUnique({ where: { id: moveId }, select: { id: true } })) return;
      const parties = {
        asker: request.askingAccount,
        fromAccount: request.fromAccount,
        toAccount: request.toAccount,
        roles: request.contactTypes as ContactType[],
      };
      // Planned again on the database as it is now: the API's plan is a few milliseconds older.
      const planned = await planMove(tx, parties, request.serviceIds);
      await tx.contactMove.create({
        data: {
          id: moveId,
          workflowId: args.workflowId,
          runId: args.runId,
          askingAccount: request.askingAccount,
          fromAccount: request.fromAccount,
          toAccount: request.toAccount,
          contactTypes: request.contactTypes,
          informed: [],
          state: 'checking',
          expiresAt: new Date(args.expiresAt),
        },
      });
      const rows = planned.map(({ service, plan }) => ({
        service_id: service.id,
        service_type: service.type,
        service_name: service.name,
        contact_types: plan.movable ? plan.task.contactTypes : [],
        informed: plan.movable ? plan.task.informed : [],
        validators: plan.movable ? plan.task.validators : [],
        state: plan.movable ? 'validatingByCustomers' : 'refused',
        reason: plan.movable ? null : plan.reason,
      }));
      await tx.$executeRaw`
        WITH x AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            AS x(service_id int, service_type text, service_name text, contact_types text[], informed text[],
                 validators text[], state text, reason text)
        ), task AS (
          INSERT INTO contact_change_task (workflow_id, run_id, service_id, service_type, service_name,
                                           asking_account, from_account, to_account, contact_types, informed,
                                           state, reason, date_done, expires_at, move_id)
          SELECT ${args.workflowId}, ${args.runId}, x.service_id, x.service_type, x.service_name,
                 ${request.askingAccount}, ${request.fromAccount}, ${request.toAccount}, x.contact_types, x.informed,
                 x.state, x.reason, CASE WHEN x.state = 'refused' THEN now() END, ${new Date(args.expiresAt)}, ${moveId}
            FROM x
          RETURNING id, service_id
        )
        INSERT INTO task_validator (task_id, handle)
        SELECT task.id, v.handle FROM task JOIN x USING (service_id), unnest(x.validators) AS v(handle)`;
      await lockItems(tx, moveId, args);
      const validators = await tx.$queryRaw<{ handle: string; items: number }[]>`
        SELECT v.handle, count(*)::int AS items
          FROM task_validator v JOIN contact_change_task t ON t.id = v.task_id
         WHERE t.move_id = ${moveId} AND t.state = 'validatingByCustomers'
         GROUP BY v.handle ORDER BY v.handle`;
      const [{ informed }] = await tx.$queryRaw<{ informed: string[] | null }[]>`
        SELECT array_agg(DISTINCT handle) AS informed
          FROM contact_change_task t, unnest(t.informed) AS handle
         WHERE t.move_id = ${moveId} AND t.state = 'validatingByCustomers'`;
      await tx.contactMoveValidator.createMany({ data: validators.map((v) => ({ moveId, ...v })) });
      await tx.contactMove.update({
        where: { id: moveId },
        data: {
          informed: (informed ?? []).filter((h) => !validators.some((v) => v.handle === h)),
          state: validators.length > 0 ? 'todo' : 'aborted',
          ...(validators.length > 0 ? {} : { reason: 'nothingToMove', dateDone: new Date() }),
        },
      });
      await appendMoveAudit(tx, moveId, args.created);
    }, BULK_TRANSACTION);
    return openedMove(moveId);
  }

  /**
   * Takes the role locks of the movable items. The primary key (service, role) refuses a role another open task
   * holds, even one registered at this very moment by another transaction (the insert waits for it, then skips):
   * such an item is recorded skipped (taskAlreadyOpen), its other locks released. Then each item's `created` event.
   */
  async function lockItems(tx: Tx, moveId: number, args: OpenMoveArgs) {
    await tx.$executeRaw`
      INSERT INTO open_role_lock (service_id, role, task_id)
      SELECT t.service_id, role, t.id
        FROM contact_change_task t, unnest(t.contact_types) AS role
       WHERE t.move_id = ${moveId} AND t.state = 'validatingByCustomers'
      ON CONFLICT DO NOTHING`;
    await tx.$executeRaw`
      WITH conflicting AS (
        UPDATE contact_change_task t
           SET state = 'refused', reason = 'taskAlreadyOpen', date_done = now()
         WHERE t.move_id = ${moveId} AND t.state = 'validatingByCustomers'
           AND cardinality(t.contact_types) >
               (SELECT count(*) FROM open_role_lock l WHERE l.task_id = t.id)
        RETURNING t.id
      ), released AS (
        DELETE FROM open_role_lock WHERE task_id IN (SELECT id FROM conflicting)
      )
      DELETE FROM task_validator WHERE task_id IN (SELECT id FROM conflicting)`;
    await tx.$executeRaw`
      INSERT INTO audit_event (task_id, dedupe_key, actor, action, detail, source_ip)
      SELECT t.id, ${`${args.workflowId}/${args.runId}/item-created/`} || t.id, t.asking_account, 'created',
             jsonb_build_object('contactTypes', to_jsonb(t.contact_types), 'moveId', ${moveId}::int),
             ${args.created.sourceIp ?? null}
        FROM contact_change_task t
       WHERE t.move_id = ${moveId} AND t.state = 'validatingByCustomers'
      ON CONFLICT DO NOTHING`;
  }

  async function recordMove(args: RecordMoveArgs): Promise<MoveCountsView> {
    const { moveId, state, event } = args;
    const ended = !OPEN_MOVE_STATES.includes(state);
    const decisions = JSON.stringify(
      args.validators.map(({ handle, status, wrongCodes }) => ({ handle, status, wrong_codes: wrongCodes })),
    );
    await db.$transaction(async (tx) => {
      // A late retry of an earlier step never takes a move out of its final state.
      await tx.$executeRaw`
        UPDATE contact_move
           SET state = ${state}, reason = ${args.reason ?? null}, updated_at = now(),
               needs_attention = ${args.needsAttention ? JSON.stringify(args.needsAttention) : null}::jsonb,
               date_done = CASE WHEN ${ended}::boolean THEN COALESCE(date_done, now()) END
         WHERE id = ${moveId} AND (state = ANY(${[...OPEN_MOVE_STATES]}::text[]) OR state = ${state})`;
      await tx.$executeRaw`
        UPDATE contact_move_validator AS v
           SET status = x.status, failed_attempts = x.wrong_codes,
               decided_at = CASE WHEN x.status <> 'pending' THEN COALESCE(v.decided_at, now()) END
          FROM jsonb_to_recordset(${decisions}::jsonb) AS x(handle text, status text, wrong_codes int)
         WHERE v.move_id = ${moveId} AND v.handle = x.handle`;
      if (args.items) await applyItemEffect(tx, moveId, args.items, event);
      await appendMoveAudit(tx, moveId, event);
    }, BULK_TRANSACTION);
    return countsOf(db, moveId);
  }

  /** What a step of the move does to its open items; each item changed gets its own event (its timeline, webhooks). */
  async function applyItemEffect(tx: Tx, moveId: number, effect: ItemEffect, event: AuditEntry) {
    const keyPrefix = `${event.dedupeKey}/item/`;
    const [state, reason, action, actor, names] =
      effect.kind === 'exclude'
        ? ['refused', 'excludedByValidator', 'refused', effect.handle, effect.serviceNames]
        : [
            effect.state,
            effect.reason,
            effect.state === 'aborted' ? 'cancelled' : effect.state,
            effect.actor,
            null,
          ];
    const ended = await tx.$queryRaw<{ id: number; service_name: string }[]>`
      UPDATE contact_change_task
         SET state = ${state}, reason = ${reason}, date_done = now(), updated_at = now()
       WHERE move_id = ${moveId} AND state = ANY(${OPEN_ITEM_STATES}::text[])
         AND (${names}::text[] IS NULL OR service_name = ANY(${names}::text[]))
      RETURNING id, service_name`;
    if (ended.length === 0) return;
    // By the ended ids, not by a join on the update's result: right after a move took its locks the lock table's
    // statistics may still say it is empty, and such a join compares every lock with every ended item (19 s for
    // 500 items in the bench, docs/performance.md); = ANY(ids) is an index scan whatever the statistics say.
    const ids = ended.map((row) => row.id);
    await tx.$executeRaw`DELETE FROM open_role_lock WHERE task_id = ANY(${ids}::int[])`;
    if (effect.kind === 'exclude' || reason === 'refusedByContact') {
      await tx.$executeRaw`
        UPDATE task_validator SET status = 'refused', decided_at = now()
         WHERE task_id = ANY(${ids}::int[]) AND handle = ${actor}`;
    }
    await tx.$executeRaw`
      INSERT INTO audit_event (task_id, dedupe_key, actor, action, detail)
      SELECT id, ${keyPrefix} || id, ${actor}, ${action}, jsonb_build_object('reason', ${reason}::text, 'moveId', ${moveId}::int)
        FROM unnest(${ids}::int[]) AS id
      ON CONFLICT DO NOTHING`;
    if (effect.kind === 'exclude') {
      await tx.$executeRaw`
        UPDATE contact_move_validator SET excluded = excluded || ${ended.map((row) => row.service_name)}::text[]
         WHERE move_id = ${moveId} AND handle = ${effect.handle}`;
    }
  }

  /**
   * Applies up to maxChunks chunks, one transaction each: the items still waiting (validatingByCustomers: a move's
   * items are not rewritten when the last acceptance arrives, see itemStateShown), each re-checked with the single
   * task's rule (recheckAtApply) on its service locked for the transaction. An item whose rule no longer holds ends
   * as a single task would (refused or aborted, with the reason). A chunk commits whole or not at all, so a retry
   * after a crash goes on from the items' states: nothing applied twice, nothing lost. Only a move every validator
   * accepted is applied: its recorded state is `applying` (the last acceptance's record, before the apply starts).
   */
  async function applyMoveChunks({ moveId, chunkSize, maxChunks }: ApplyMoveArgs): Promise<AppliedChunks> {
    const move = await db.contactMove.findUniqueOrThrow({ where: { id: moveId } });
    if (move.state !== 'applying')
      throw ApplicationFailure.nonRetryable(
        `move ${moveId} is ${move.state}, not applying: its items are not applied`,
        'moveNotApplying',
      );
    const progress = { chunk: 0, applied: 0, skipped: 0 };
    // Alive is not the same as done with a chunk: the heartbeat goes on while a slow chunk runs, so the short
    // heartbeat timeout (workflows/contact-move.ts) catches a killed worker, never a slow one.
    const keepAlive = setInterval(() => heartbeat(progress), KEEP_ALIVE_MS);
    try {
      heartbeat(progress);
      for (; progress.chunk < maxChunks; progress.chunk++) {
        // An attempt Temporal gave up on (timed out) stops here; its retry goes on from the items' states.
        if (cancelled()) throw new CancelledFailure('the apply attempt was cancelled');
        const result = await db.$transaction((tx) => applyChunk(tx, move, chunkSize), CHUNK_TRANSACTION);
        progress.applied += result.applied;
        progress.skipped += result.skipped;
        heartbeat(progress);
        if (result.applied + result.skipped < chunkSize) break;
      }
    } finally {
      clearInterval(keepAlive);
    }
    const counts = await countsOf(db, moveId);
    return { counts, finished: counts.remaining === 0 };
  }

  async function applyChunk(
    tx: Tx,
    move: {
      id: number;
      workflowId: string;
      runId: string;
      askingAccount: string;
      fromAccount: string;
      toAccount: string;
    },
    chunkSize: number,
  ) {
    // The next waiting items and their services, both locked for the transaction: a range scan of the
    // (move_id, state, id) index, then each service by its key (the task's foreign key keeps the service there).
    const items = await tx.$queryRaw<
      (ServiceContacts & { id: number; service_id: number; contact_types: string[] })[]
    >`
      SELECT t.id, t.service_id, t.contact_types, ${serviceHolders.columns}
        FROM contact_change_task t
        JOIN service s ON s.id = t.service_id
        ${serviceHolders.joins}
       WHERE t.move_id = ${move.id} AND t.state = 'validatingByCustomers'
       ORDER BY t.id LIMIT ${chunkSize}
         FOR UPDATE OF t, s`;
    if (items.length === 0) return { applied: 0, skipped: 0 };
    const accounts = await tx.account.findMany({
      where: { handle: { in: [move.askingAccount, move.fromAccount, move.toAccount] } },
      select: { id: true, handle: true, billingStanding: true },
    });
    const known = new Map(accounts.map((account) => [account.handle, account]));
    const ends = items.map(({ id, service_id, contact_types, ...service }) => {
      const refusal = recheckAtApply({
        askingAccount: move.askingAccount,
        fromAccount: move.fromAccount,
        toAccount: move.toAccount,
        contactTypes: contact_types as ContactType[],
        service,
        accounts: known,
      });
      return refusal
        ? { id, service_id, roles: [], state: END_STATE_OF_APPLY_REFUSAL[refusal], reason: refusal }
        : { id, service_id, roles: contact_types, state: 'done', reason: null };
    });
    await writeChunkEnds(tx, move, known.get(move.toAccount)?.id ?? null, ends);
    const applied = ends.filter((end) => end.state === 'done').length;
    return { applied, skipped: ends.length - applied };
  }

  /**
   * Everything a chunk writes, one statement a table: each applied item's service gets its new holder for the
   * item's roles (each service row written once, whatever its number of roles), each item its end, its validators'
   * acceptance (the move's, which covers it), its role locks released and its event. Separate statements, not one
   * statement of data-modifying CTEs: on the 1,000,000-service bench the single statement's rate fell from 3,800
   * to 1,200 items/s as the apply went on, the separate ones held 2,800-3,700 (docs/performance.md, 2026-12-07 19:14).
   */
  async function writeChunkEnds(
    tx: Tx,
    move: { id: number; workflowId: string; runId: string },
    toId: number | null,
    ends: { id: number; service_id: number; roles: string[]; state: string; reason: string | null }[],
  ) {
    const holders = Prisma.join(
      Object.entries(ROLE_HOLDER).map(
        ([role, { column }]) =>
          Prisma.sql`${Prisma.raw(column)} = CASE WHEN ${role} = ANY(x.roles) THEN ${toId}::int ELSE s.${Prisma.raw(column)} END`,
      ),
    );
    const ids = ends.map((end) => end.id);
    const x = Prisma.sql`jsonb_to_recordset(${JSON.stringify(ends)}::jsonb)
      AS x(id int, service_id int, roles text[], state text, reason text)`;
    await tx.$executeRaw`
      UPDATE service s SET ${holders}, updated_at = now()
        FROM ${x} WHERE s.id = x.service_id AND x.state = 'done'`;
    await tx.$executeRaw`
      UPDATE contact_change_task t
         SET state = x.state, reason = x.reason, date_done = now(), updated_at = now()
        FROM ${x} WHERE t.id = x.id`;
    await tx.$executeRaw`
      UPDATE task_validator SET status = 'accepted', decided_at = now()
       WHERE task_id = ANY(${ids}::int[]) AND status = 'pending'`;
    await tx.$executeRaw`DELETE FROM open_role_lock WHERE task_id = ANY(${ids}::int[])`;
    await tx.$executeRaw`
      INSERT INTO audit_event (task_id, dedupe_key, actor, action, detail)
      SELECT x.id, ${`${move.workflowId}/${move.runId}/item-apply/`} || x.id, 'system',
             CASE WHEN x.state = 'done' THEN 'applied' ELSE x.state || 'AtApply' END,
             CASE WHEN x.reason IS NULL THEN jsonb_build_object('moveId', ${move.id}::int)
                  ELSE jsonb_build_object('moveId', ${move.id}::int, 'reason', x.reason) END
        FROM ${x}
      ON CONFLICT DO NOTHING`;
  }

  /** Sends each mail of a move not sent yet (one lookup for the batch); a refused address is reported, not retried. */
  async function sendMoveMany(moveId: number, mails: MoveMail[]) {
    const keys = mails.map((mail) => moveMailKey(moveId, mail));
    const [sent, move, accounts, counts] = await Promise.all([
      db.sentEmail.findMany({ where: { key: { in: keys }, sentAt: { not: null } }, select: { key: true } }),
      db.contactMove.findUniqueOrThrow({ where: { id: moveId }, include: { validators: true } }),
      db.account.findMany({ where: { handle: { in: [...new Set(mails.map((mail) => mail.recipient))] } } }),
      countsOf(db, moveId),
    ]);
    const sentKeys = new Set(sent.map(({ key }) => key));
    // The services people validate: those the move did not skip when it was made (they have validators).
    const validated = { moveId, validators: { some: {} } };
    const [names, movable] = await Promise.all([
      db.contactChangeTask.findMany({
        where: validated,
        orderBy: { serviceName: 'asc' },
        take: SERVICES_IN_MAIL,
        select: { serviceName: true },
      }),
      db.contactChangeTask.count({ where: validated }),
    ]);
    const base = deps.publicBaseUrl.replace(/\/$/, '');
    const prepared: PreparedMail[] = [];
    for (const mail of mails) {
      const key = moveMailKey(moveId, mail);
      if (sentKeys.has(key)) continue;
      const account = accounts.find((a) => a.handle === mail.recipient);
      if (!account)
        throw ApplicationFailure.nonRetryable(`account ${mail.recipient} does not exist`, 'unknownAccount');
      const code = mail.kind === 'moveCode' ? codeOf(move, mail) : undefined;
      const language = account.language as Language;
      const shown = names.map((n) => n.serviceName);
      const others = movable - shown.length;
      const email = await renderEmail(language, mail.kind, {
        taskId: moveId,
        serviceName: others > 0 ? `${shown.join(', ')} (+${others})` : shown.join(', '),
        serviceType: '',
        roles: roleNames(language, move.contactTypes),
        fromAccount: move.fromAccount,
        toAccount: move.toAccount,
        askingAccount: move.askingAccount,
        validators: move.validators,
        recipient: mail.recipient,
        reason: move.reason ?? undefined,
        undeliverable: (move.needsAttention as NeedsAttention | null)?.handles.join(', '),
        expiresAt: `${expiryFormat(language).format(move.expiresAt)} UTC`,
        code,
        resent: mail.step.startsWith('resend'),
        validationLink: `${base}/validate-move/${moveId}${code ? `#code=${code}&for=${mail.recipient}` : ''}`,
        requestsLink: `${base}/moves/${moveId}`,
        move: { count: movable, applied: counts.applied, skipped: counts.skipped, refused: counts.refused },
      });
      const messageId = `<move-${moveId}.${moveMailStep(mail).replace(/[^\w.-]/g, '.')}.${mail.recipient}@contacts>`;
      const row = { key, moveId, recipient: mail.recipient, step: moveMailStep(mail), messageId };
      prepared.push({ row, to: account.email, email });
    }
    // Claimed together just before they go, as a task's mails are.
    const undeliverable = await claimAndSend(db, mailer, mails[0]?.step ?? '', prepared);
    return { undeliverable, move };
  }

  /** A move's code: derived per (run, move, validator, step), so a retried send mails the very same code. */
  function codeOf(move: { id: number; workflowId: string; runId: string }, mail: MoveMail) {
    return deriveCode(deps.codeHashKey, {
      workflowId: move.workflowId,
      runId: move.runId,
      taskId: move.id,
      handle: mail.recipient,
      step: mail.step,
    });
  }

  async function issueMoveCodes({
    moveId,
    handles,
    step,
    notices,
  }: IssueMoveCodesArgs): Promise<IssuedCodes> {
    const codeMails = handles.map((recipient): MoveMail => ({ step, recipient, kind: 'moveCode' }));
    const noticeMails = (notices?.recipients ?? []).map((recipient): MoveMail => ({
      step,
      recipient,
      kind: notices!.template,
    }));
    const { undeliverable, move } = await sendMoveMany(moveId, [...codeMails, ...noticeMails]);
    const codeDigests = Object.fromEntries(
      codeMails.map((mail) => [
        mail.recipient,
        codeDigest(hashMoveCode(deps.codeHashKey, moveId, mail.recipient, codeOf(move, mail))),
      ]),
    );
    return { codeDigests, undeliverable };
  }

  return {
    openMove: failingForGoodOnConstraint(keptAlive(openMove)),
    recordMove: failingForGoodOnConstraint(keptAlive(recordMove)),
    applyMoveChunks: failingForGoodOnConstraint(applyMoveChunks),
    issueMoveCodes,
    async sendMoveMails({ moveId, step, batches }: SendMoveMailsArgs) {
      const mails = batches.flatMap(({ template, recipients }) =>
        recipients.map((recipient): MoveMail => ({ step, recipient, kind: template })),
      );
      return { undeliverable: (await sendMoveMany(moveId, mails)).undeliverable };
    },
  };
}

/**
 * Heartbeats every second while the work runs, however long its one transaction takes: the workflow gives its long
 * writes (the opening of every item, the end of every open item) a heartbeat timeout of seconds, so that an attempt
 * whose worker died is retried then, not at the end of its 10-minute timeout (found by npm run soak: a move still
 * `checking` long after its 202, its opening lost with a worker or the Temporal server that had dispatched it).
 */
function keptAlive<Args extends unknown[], Result>(work: (...args: Args) => Promise<Result>) {
  return async (...args: Args): Promise<Result> => {
    const keepAlive = setInterval(() => heartbeat({}), KEEP_ALIVE_MS);
    try {
      heartbeat({});
      return await work(...args);
    } finally {
      clearInterval(keepAlive);
    }
  };
}

/** Reports progress to Temporal when run as an activity (a retry after a crash starts over from the items). */
function heartbeat(details: Record<string, number>) {
  try {
    Context.current().heartbeat({ ...details });
  } catch {
    // Called outside an activity (a script or a test calling the function directly): nothing to report to.
  }
}

/** Whether Temporal cancelled this attempt (timed out, or the workflow gone); never, outside an activity. */
function cancelled(): boolean {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false;
  }
}
