import { createHash } from 'node:crypto';
import {
  ApplicationFailure,
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { z } from 'zod';
import type { Config } from '../lib/config';
import { hashMoveCode } from '../lib/codes';
import type { Db } from '../lib/db';
import {
  countItems,
  itemStateShown,
  itemStatesShownAs,
  moveRoles,
  seesMove,
  type MoveSkipReason,
} from '../domain/moves';
import {
  moveItemGroups,
  planMove,
  servicesMatching,
  servicesNamed,
  type MoveParties,
  type PlannedItem,
} from '../lib/move-selection';
import { resendTargets, SEARCH_ATTRIBUTES } from '../workflows/contact-change.messages';
import type { contactMove } from '../workflows/contact-move';
import {
  acceptMoveUpdate,
  CANCELLABLE_MOVE_STATES,
  cancelMoveUpdate,
  contactMoveWorkflowId,
  type ContactMoveInput,
  moveQuery,
  moveSummary,
  type MoveState,
  type MoveView,
  OPEN_MOVE_STATES,
  refuseMoveUpdate,
  resendMoveUpdate,
} from '../workflows/contact-move.messages';
import type { AuthAccount } from './auth/authenticate';
import { rethrowAsApiError, throwUnlessDecided } from './contact-changes';
import { ApiError, notFound } from './errors';
import type { moveBody, moveDryRunResponse, moveItemPage, moveItemQuery, moveResponse } from './schemas';

export interface ContactMoveDeps {
  db: Db;
  temporal: Client;
  config: Pick<
    Config,
    | 'TEMPORAL_TASK_QUEUE'
    | 'TEMPORAL_SEARCH_ATTRIBUTES'
    | 'CODE_HASH_KEY'
    | 'TASK_EXPIRY'
    | 'REMINDER_BEFORE_EXPIRY'
    | 'RESEND_MIN_INTERVAL'
    | 'TASK_REGISTRATION_TIMEOUT'
    | 'MOVE_MAX_SERVICES'
    | 'MOVE_APPLY_CHUNK_SIZE'
  >;
}

type MoveBody = z.infer<typeof moveBody>;
type DryRun = z.infer<typeof moveDryRunResponse>;
type MoveResponse = z.infer<typeof moveResponse>;

const MOVE_NOT_FOUND = 'This move does not exist or does not concern you';

const moveNotOpen = (state: string) =>
  new ApiError(409, 'moveNotOpen', `This move is ${state}: it no longer takes this action`);

/** The selection of a move request, planned: the services found (with their plan) and the names that are not. */
export interface PlannedSelection {
  parties: MoveParties;
  items: PlannedItem[];
  /** Names of an explicit list that name no service: judged as `notAContact`, like a service of someone else. */
  unknownNames: string[];
}

type FrozenRequest = Awaited<ReturnType<Db['contactMoveRequest']['create']>>;
type Reader = Pick<Db, 'contactMoveRequest'>;

/**
 * The request as asked, whatever its order or repeats: who asks, from, to, the roles and the selection (the names
 * of an explicit list, or the filter). Equal keys are the same request.
 */
export function moveRequestKey(asker: string, body: MoveBody): string {
  const selection = body.services
    ? { services: [...new Set(body.services)].sort() }
    : {
        filter: {
          serviceType: body.filter?.serviceType ?? null,
          nameContains: body.filter?.nameContains ?? null,
        },
      };
  const request = {
    asker,
    fromAccount: body.fromAccount ?? asker,
    toAccount: body.toAccount,
    roles: [...new Set(body.contactTypes)].sort(),
    ...selection,
  };
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

/** The newest request of this account with this key whose move is still open (or not recorded yet). */
async function openRequestFor(db: Reader, asker: string, requestKey: string): Promise<FrozenRequest | null> {
  return db.contactMoveRequest.findFirst({
    where: {
      askingAccount: asker,
      requestKey,
      OR: [{ move: { is: null } }, { move: { is: { state: { in: [...OPEN_MOVE_STATES] } } } }],
    },
    orderBy: { id: 'desc' },
  });
}

const tooManyServices = (max: number) =>
  new ApiError(400, 'tooManyServices', `A move may select at most ${max} services (MOVE_MAX_SERVICES)`, {
    maxServices: max,
  });

export function createContactMoves(deps: ContactMoveDeps) {
  const { db, config } = deps;
  const max = config.MOVE_MAX_SERVICES;

  /**
   * What the request selects, each service planned by the rule table. A filter selects only services the asker
   * is a contact of: what another account holds elsewhere is not the asker's business (nothing leaks).
   */
  async function planSelection(account: AuthAccount, body: MoveBody): Promise<PlannedSelection> {
    const parties: MoveParties = {
      asker: account.handle,
      fromAccount: body.fromAccount ?? account.handle,
      toAccount: body.toAccount,
      roles: moveRoles(body.contactTypes),
    };
    if (body.services) {
      const names = [...new Set(body.services)];
      if (names.length > max) throw tooManyServices(max);
      const found = await servicesNamed(db, names);
      const known = new Set(found.map((service) => service.name));
      const items = await planMove(
        db,
        parties,
        found.map((service) => service.id),
      );
      return { parties, items, unknownNames: names.filter((name) => !known.has(name)) };
    }
    const from = await db.account.findUnique({
      where: { handle: parties.fromAccount },
      select: { id: true },
    });
    const ids = from ? await servicesMatching(db, from.id, parties.roles, body.filter ?? {}, max + 1) : [];
    if (ids.length > max) throw tooManyServices(max);
    const items = (await planMove(db, parties, ids)).filter(
      ({ plan }) => plan.movable || plan.reason !== 'notAContact',
    );
    return { parties, items, unknownNames: [] };
  }

  /** The dry run: per service, whether it moves and why not, who validates and who is only told. */
  async function dryRun(account: AuthAccount, body: MoveBody): Promise<DryRun> {
    const { items, unknownNames } = await planSelection(account, body);
    const byReason: Record<string, number> = {};
    const validators = new Map<string, number>();
    const informed = new Set<string>();
    const answered: DryRun['items'] = items.map(({ service, plan }) => {
      if (!plan.movable) {
        byReason[plan.reason] = (byReason[plan.reason] ?? 0) + 1;
        return {
          serviceName: service.name,
          // A service one is not a contact of answers as one that does not exist: no type.
          ...(plan.reason === 'notAContact' ? {} : { serviceType: service.type }),
          contactTypes: [],
          movable: false,
          reason: plan.reason,
          message: plan.message,
          validators: [],
          informed: [],
        };
      }
      for (const handle of plan.task.validators) validators.set(handle, (validators.get(handle) ?? 0) + 1);
      for (const handle of plan.task.informed) informed.add(handle);
      return {
        serviceName: service.name,
        serviceType: service.type,
        contactTypes: plan.task.contactTypes,
        movable: true,
        validators: plan.task.validators,
        informed: plan.task.informed,
      };
    });
    const notAContact: MoveSkipReason = 'notAContact';
    for (const name of unknownNames) {
      byReason[notAContact] = (byReason[notAContact] ?? 0) + 1;
      answered.push({
        serviceName: name,
        contactTypes: [],
        movable: false,
        reason: notAContact,
        message: 'this service does not exist or you are not one of its contacts',
        validators: [],
        informed: [],
      });
    }
    return {
      dryRun: true,
      total: answered.length,
      movable: answered.filter((item) => item.movable).length,
      byReason,
      validators: [...validators].map(([handle, count]) => ({ handle, items: count })),
      informed: [...informed],
      items: answered,
    };
  }

  /**
   * Creates the move: the selection is frozen (the services' ids, in contact_move_request), the workflow started
   * with that row's id; its first activity records the items. Answers once they are recorded (201), or, for a very
   * large move still being recorded after TASK_REGISTRATION_TIMEOUT, 202 with its id: it registers on its own.
   * The same request sent again by the same account while its move is open (a lost answer, a 5xx, a timeout) is
   * answered that move: it converges as a retried task does (docs/decisions/moves.md, "A retried create").
   */
  async function create(account: AuthAccount, body: MoveBody, sourceIp?: string) {
    const requestKey = moveRequestKey(account.handle, body);
    const earlier = await openRequestFor(db, account.handle, requestKey);
    if (earlier) return answerCreated(account, earlier);
    const { parties, items } = await planSelection(account, body);
    // A service the asker is none of the contacts of is not recorded (its existence is not the asker's business).
    const candidates = items.filter(({ plan }) => plan.movable || plan.reason !== 'notAContact');
    if (!candidates.some(({ plan }) => plan.movable)) {
      throw new ApiError(
        409,
        'nothingToMove',
        'None of the services selected can move: the dry run tells why for each',
      );
    }
    // Two copies of one request at the same moment: the second waits for the first's row and answers its move.
    const request = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${requestKey}))`;
      const raced = await openRequestFor(tx, account.handle, requestKey);
      if (raced) return raced;
      return tx.contactMoveRequest.create({
        data: {
          askingAccount: parties.asker,
          fromAccount: parties.fromAccount,
          toAccount: parties.toAccount,
          contactTypes: [...parties.roles],
          serviceIds: candidates.map(({ service }) => service.id),
          selection: body.services ? { services: body.services.length } : { filter: body.filter ?? {} },
          requestedFromIp: sourceIp ?? null,
          requestKey,
        },
      });
    });
    return answerCreated(account, request);
  }

  /**
   * Starts the request's workflow unless it runs already (a retry after a start that failed, or whose answer was
   * lost, starts it then), and answers the move once recorded.
   */
  async function answerCreated(account: AuthAccount, request: FrozenRequest) {
    const recorded = await db.contactMove.findUnique({ where: { id: request.id }, select: { id: true } });
    if (!recorded) await startMove(request);
    const registered = await untilRegistered(request.id);
    return {
      status: registered ? 201 : 202,
      body: registered ? await getMove(account, request.id) : { id: request.id, state: 'checking' as const },
    };
  }

  async function startMove(request: FrozenRequest) {
    const input: ContactMoveInput = {
      moveId: request.id,
      askingAccount: request.askingAccount,
      expiryMs: config.TASK_EXPIRY,
      reminderBeforeExpiryMs: config.REMINDER_BEFORE_EXPIRY,
      resendMinIntervalMs: config.RESEND_MIN_INTERVAL,
      chunkSize: config.MOVE_APPLY_CHUNK_SIZE,
      requestedFromIp: request.requestedFromIp ?? undefined,
      searchAttributes: config.TEMPORAL_SEARCH_ATTRIBUTES === 'on',
    };
    await deps.temporal.workflow
      .start<typeof contactMove>('contactMove', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: contactMoveWorkflowId(request.id),
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: moveSummary({
          moveId: request.id,
          contactTypes: request.contactTypes,
          fromAccount: request.fromAccount,
          toAccount: request.toAccount,
          askingAccount: request.askingAccount,
          services: request.serviceIds.length,
        }),
        ...(input.searchAttributes
          ? {
              typedSearchAttributes: [
                {
                  key: SEARCH_ATTRIBUTES.handles,
                  value: [...new Set([request.askingAccount, request.fromAccount, request.toAccount])],
                },
                { key: SEARCH_ATTRIBUTES.state, value: 'checking' },
              ],
            }
          : {}),
      })
      .catch((error: unknown) => {
        // Its run ended between our look and the start (a retry of a move that just ended): nothing to start.
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      });
  }

  /**
   * Whether the move is recorded and its workflow has moved on from `checking` (so the answer is its first real
   * state, `todo` or `aborted`), within TASK_REGISTRATION_TIMEOUT.
   */
  async function untilRegistered(moveId: number): Promise<boolean> {
    const until = Date.now() + config.TASK_REGISTRATION_TIMEOUT;
    for (let pauseMs = 10; Date.now() < until; pauseMs = Math.min(pauseMs * 2, 200)) {
      const move = await db.contactMove.findUnique({
        where: { id: moveId },
        select: { state: true, workflowId: true, runId: true },
      });
      if (move && move.state !== 'checking') return true;
      // Not answered (its first workflow task still running) counts as checking too.
      const live = move && (await liveView(move));
      if (live && live.state !== 'checking') return true;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    return false;
  }

  async function findVisibleMove(account: AuthAccount, id: number) {
    const move = await db.contactMove.findUnique({ where: { id }, include: { validators: true } });
    if (!move || !seesMove(account.handle, move)) throw notFound(MOVE_NOT_FOUND);
    return move;
  }

  function handleOf(move: { workflowId: string; runId: string }) {
    return deps.temporal.workflow.getHandle<typeof contactMove>(move.workflowId, move.runId);
  }

  /**
   * The run's own view of an open move, ahead of the row by the write under way; undefined when the row is as new.
   * The row is written by the opening activity before the run hears back from it (the row says `todo` while the
   * run still says `checking`): a view not registered yet is behind the row, never shown over it.
   */
  async function liveView(move: { state: string; workflowId: string; runId: string }) {
    if (!OPEN_MOVE_STATES.includes(move.state as MoveState)) return undefined;
    try {
      const view = await handleOf(move).query(moveQuery);
      return view.registered ? view : undefined;
    } catch {
      return undefined; // the read model is still a true, if slightly older, answer
    }
  }

  async function getMove(account: AuthAccount, id: number, live?: MoveView): Promise<MoveResponse> {
    const move = await findVisibleMove(account, id);
    const [groups, events, fresh] = await Promise.all([
      moveItemGroups(db, id),
      db.auditEvent.findMany({ where: { moveId: id }, orderBy: { id: 'asc' } }),
      live ?? liveView(move),
    ]);
    const stored = move.state as MoveState;
    const state = fresh && OPEN_MOVE_STATES.includes(fresh.state) ? fresh.state : stored;
    const statusOf = new Map(fresh?.validators.map((v) => [v.handle, v.status]));
    const validators = move.validators
      .sort((a, b) => a.handle.localeCompare(b.handle))
      .map((v) => ({
        handle: v.handle,
        status: (statusOf.get(v.handle) ?? v.status) as 'pending' | 'accepted' | 'refused',
        items: v.items,
        excluded: v.excluded.length,
        decidedAt: v.decidedAt?.toISOString(),
      }));
    const byReason: Record<string, number> = {};
    for (const group of groups)
      if (group.reason && group.state !== 'done')
        byReason[group.reason] = (byReason[group.reason] ?? 0) + group.count;
    const waiting = state === 'todo' ? 'validatingByCustomers' : 'doing';
    const needsAttention = fresh
      ? (fresh.needsAttention ?? null)
      : (move.needsAttention as MoveResponse['needsAttention']);
    return {
      id: move.id,
      state,
      reason: (fresh && state === fresh.state ? fresh.reason : move.reason) ?? undefined,
      askingAccount: move.askingAccount,
      fromAccount: move.fromAccount,
      toAccount: move.toAccount,
      contactTypes: move.contactTypes as MoveResponse['contactTypes'],
      dateRequest: move.dateRequest.toISOString(),
      dateDone: move.dateDone?.toISOString(),
      expiresAt: move.expiresAt.toISOString(),
      counts: countItems(groups),
      byReason,
      validators,
      awaiting: state === 'todo' ? validators.filter((v) => v.status === 'pending').map((v) => v.handle) : [],
      informed: move.informed,
      needsAttention,
      canResendTo:
        resendTargets(
          { askingAccount: move.askingAccount, state: waiting, validators },
          { by: account.handle },
        ) ?? [],
      cancellable: CANCELLABLE_MOVE_STATES.includes(state) && move.askingAccount === account.handle,
      history: events.map((e) => ({ date: e.createdAt.toISOString(), actor: e.actor, action: e.action })),
    };
  }

  /** The moves that concern the account, newest first (their ids, as the task list). */
  async function listMoveIds(account: AuthAccount): Promise<number[]> {
    const handle = account.handle;
    const rows = await db.contactMove.findMany({
      where: {
        OR: [
          { askingAccount: handle },
          { fromAccount: handle },
          { toAccount: handle },
          { informed: { has: handle } },
          { validators: { some: { handle } } },
        ],
      },
      select: { id: true },
      orderBy: { id: 'desc' },
      take: 1000,
    });
    return rows.map((row) => row.id);
  }

  /** The move's items, by service name, one keyset page at a time. */
  async function listItems(
    account: AuthAccount,
    id: number,
    query: z.infer<typeof moveItemQuery>,
  ): Promise<z.infer<typeof moveItemPage>> {
    const move = await findVisibleMove(account, id);
    const rows = await db.contactChangeTask.findMany({
      where: {
        moveId: id,
        ...(query.state ? { state: { in: itemStatesShownAs(query.state, move.state) } } : {}),
        ...(query.cursor !== undefined ? { serviceName: { gt: query.cursor } } : {}),
      },
      orderBy: { serviceName: 'asc' },
      take: query.limit + 1,
      select: {
        id: true,
        serviceName: true,
        serviceType: true,
        contactTypes: true,
        state: true,
        reason: true,
      },
    });
    const page = rows.slice(0, query.limit);
    return {
      items: page.map((row) => ({
        taskId: row.id,
        serviceName: row.serviceName,
        serviceType: row.serviceType,
        contactTypes: row.contactTypes as z.infer<typeof moveItemPage>['items'][number]['contactTypes'],
        state: itemStateShown(row.state, move.state) as z.infer<
          typeof moveItemPage
        >['items'][number]['state'],
        reason: row.reason ?? undefined,
      })),
      nextCursor: rows.length > query.limit ? page[page.length - 1].serviceName : null,
    };
  }

  async function openMoveOrThrow(account: AuthAccount, id: number) {
    const move = await findVisibleMove(account, id);
    if (!OPEN_MOVE_STATES.includes(move.state as MoveState)) throw moveNotOpen(move.state);
    return move;
  }

  /** Services named to leave out must be open items of this move that this person validates. */
  async function checkExcluded(moveId: number, handle: string, names: string[]) {
    const unique = [...new Set(names)];
    if (unique.length === 0) return unique;
    const found = await db.contactChangeTask.findMany({
      where: { moveId, serviceName: { in: unique }, validators: { some: { handle } } },
      select: { serviceName: true },
    });
    const known = new Set(found.map((row) => row.serviceName));
    const unknown = unique.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new ApiError(400, 'notInMove', 'Only services of this move that you validate can be left out', {
        services: unknown.slice(0, 20),
      });
    }
    return unique;
  }

  /** Accepts (leaving out `exclude`) or refuses the move with the code of its mail. */
  async function decide(
    account: AuthAccount,
    id: number,
    decision: 'accept' | 'refuse',
    token: string,
    exclude: string[] = [],
    sourceIp?: string,
  ) {
    const move = await openMoveOrThrow(account, id);
    const excluded = decision === 'accept' ? await checkExcluded(id, account.handle, exclude) : [];
    const codeHash = hashMoveCode(config.CODE_HASH_KEY, id, account.handle, token);
    const update = decision === 'accept' ? acceptMoveUpdate : refuseMoveUpdate;
    const result = await handleOf(move)
      .executeUpdate(update, {
        args: [
          { account: account.handle, codeHash, sourceIp, ...(excluded.length ? { exclude: excluded } : {}) },
        ],
      })
      .catch(rethrowMoveError);
    throwUnlessDecided(result);
    return { outcome: result.outcome, move: await getMove(account, id, result.move) };
  }

  async function resend(account: AuthAccount, id: number, to?: string[], sourceIp?: string) {
    const move = await openMoveOrThrow(account, id);
    const { resentTo, notYet } = await handleOf(move)
      .executeUpdate(resendMoveUpdate, { args: [{ by: account.handle, to, sourceIp }] })
      .catch(rethrowMoveError);
    return { resentTo, notYet };
  }

  async function cancel(account: AuthAccount, id: number, sourceIp?: string) {
    const move = await openMoveOrThrow(account, id);
    const cancelled = await handleOf(move)
      .executeUpdate(cancelMoveUpdate, { args: [{ by: account.handle, sourceIp }] })
      .catch(rethrowMoveError);
    return getMove(account, id, cancelled);
  }

  return { planSelection, dryRun, create, getMove, listMoveIds, listItems, decide, resend, cancel };
}

/** The move workflow's rejections as the API's answers (the task's, and its own for exclusions). */
function rethrowMoveError(error: unknown): never {
  if (
    error instanceof WorkflowUpdateFailedError &&
    error.cause instanceof ApplicationFailure &&
    error.cause.type === 'nothingToExclude'
  ) {
    throw new ApiError(400, 'notInMove', error.cause.message);
  }
  return rethrowAsApiError(error);
}
