import {
  Client,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  ApplicationFailure,
} from '@temporalio/client';
import type { Config } from '../lib/config';
import { hashCode } from '../lib/codes';
import {
  planContactChange,
  REFUSAL_STATUS,
  RuleRefusal,
  type ChangeRequest,
  type OpenTaskOnRole,
  type KnownAccount,
  type PlannedTask,
  type ServiceContacts,
} from '../domain/contact-rules';
import {
  cancelRequestFor,
  isCancellable,
  isOpen,
  mayCancel,
  seesTask,
  TASK_PARTIES_INCLUDE,
  taskParties,
  tasksSeenBy,
  tasksShownIn,
  type TaskParties,
  type TaskRequest,
} from '../domain/tasks';
import { itemStateShown, itemValidatorStatus } from '../domain/moves';
import type { ContactChangeTask } from '../generated/prisma/client';
import { serviceHolders, type Db } from '../lib/db';
import type { RegistrationWait, TaskRegistrations } from '../lib/task-registrations';
import {
  acceptUpdate,
  cancelUpdate,
  contactChangeWorkflowId,
  refuseUpdate,
  REJECTIONS,
  resendTargets,
  resendUpdate,
  SEARCH_ATTRIBUTES,
  taskSummary,
  type ContactChangeInput,
  type ContactType,
  type NeedsAttention,
  type Rejection,
  type TaskState,
  type TaskView,
} from '../workflows/contact-change.messages';
import type { contactChange } from '../workflows/contact-change';
import type { AuthAccount } from './auth/authenticate';
import type { createContactMoves } from './contact-moves';
import { ApiError, notFound, serviceNotFound } from './errors';
import type { z } from 'zod';
import type { changeCheckResponse, changeContactBody, taskResponse } from './schemas';

export interface ContactChangeDeps {
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
  >;
  /** The moves whose items are tasks too: a decision on an item is the move's (MOVE-API.md). */
  moves?: Pick<ReturnType<typeof createContactMoves>, 'decide' | 'resend'>;
  /** The announcements of new tasks' rows, which a request's answer waits for; without them it looks every 10-100 ms. */
  registrations?: TaskRegistrations;
}

type TaskResponse = z.infer<typeof taskResponse>;

/** A service as a change of its contacts reads it: its holders, the accounts the rules judge and its role locks. */
type ServiceToChange = ServiceContacts & {
  id: number;
  type: string;
  name: string;
  accounts: KnownAccount[];
  locks: { role: string; taskId: number }[];
};
/** The HTTP status of each reason the workflow rejects an Update for (the reason itself is the API's reason). */
const REJECTION_STATUS: Record<Rejection, number> = {
  // The task's first workflow task is still running or being replayed by a worker that took over (found by
  // npm run soak): the same request is right a moment later, so 503 with Retry-After, not a refusal.
  notRegistered: 503,
  notAwaitingDecisions: 409,
  notAValidator: 403,
  alreadyDecided: 409,
  codeLocked: 403,
  nothingToResend: 403,
  resendTooSoon: 429,
  notTheAsker: 403,
  notCancellable: 409,
};

const TASK_NOT_FOUND = 'This task does not exist or does not concern you';

interface Decision {
  handle: string;
  status: string;
  decidedAt: Date | null;
}

/** A task as the API shows it: its row, its validators, its history, its move's decisions, its service's admin. */
type TaskRow = Omit<TaskParties, 'validators'> &
  TaskRequest &
  Pick<ContactChangeTask, 'state' | 'dateRequest' | 'dateDone' | 'moveId'> & {
    validators: Decision[];
    events: { createdAt: Date; actor: string; action: string }[];
    /** An item's move: what its state and its validators' statuses are shown as (itemStateShown, itemValidatorStatus). */
    move: { state: string; validators: Decision[] } | null;
  };

/** A timestamp as json_build_object writes it (the columns hold UTC without a zone). */
const utc = (timestamp: string | null) => (timestamp === null ? null : new Date(`${timestamp}Z`));
const decisionsOf = (rows: { handle: string; status: string; decidedAt: string | null }[] | null) =>
  (rows ?? []).map((v) => ({ ...v, decidedAt: utc(v.decidedAt) }));

/**
 * The task with everything an answer shows, in one statement: Prisma's include read it in five or six (one per
 * relation), and every story reads a task three times (docs/performance.md, 2026-12-08).
 */
async function loadTask(db: Db, id: number): Promise<TaskRow | undefined> {
  type Raw = Omit<TaskRow, 'validators' | 'events' | 'move'> & {
    validators: { handle: string; status: string; decidedAt: string | null }[] | null;
    events: { createdAt: string; actor: string; action: string }[] | null;
    move: {
      state: string;
      validators: { handle: string; status: string; decidedAt: string | null }[] | null;
    } | null;
  };
  const [row] = await db.$queryRaw<Raw[]>`
    SELECT t.id, t.workflow_id AS "workflowId", t.run_id AS "runId", t.service_name AS "serviceName",
           t.service_type AS "serviceType", t.asking_account AS "askingAccount", t.from_account AS "fromAccount",
           t.to_account AS "toAccount", t.contact_types AS "contactTypes", t.informed, t.state, t.reason,
           t.date_request AS "dateRequest", t.date_done AS "dateDone", t.expires_at AS "expiresAt",
           t.needs_attention AS "needsAttention", t.move_id AS "moveId", a.handle AS "serviceAdmin",
           (SELECT json_agg(json_build_object('handle', v.handle, 'status', v.status, 'decidedAt', v.decided_at))
              FROM task_validator v WHERE v.task_id = t.id) AS validators,
           (SELECT json_agg(json_build_object('createdAt', e.created_at, 'actor', e.actor, 'action', e.action)
                            ORDER BY e.id)
              FROM audit_event e WHERE e.task_id = t.id) AS events,
           (SELECT json_build_object('state', m.state, 'validators',
                     (SELECT json_agg(json_build_object('handle', mv.handle, 'status', mv.status,
                                                        'decidedAt', mv.decided_at))
                        FROM contact_move_validator mv WHERE mv.move_id = m.id))
              FROM contact_move m WHERE m.id = t.move_id) AS move
      FROM contact_change_task t
      JOIN service s ON s.id = t.service_id
      JOIN account a ON a.id = s.admin_id
     WHERE t.id = ${id}`;
  if (!row) return undefined;
  return {
    ...row,
    validators: decisionsOf(row.validators),
    events: (row.events ?? []).map((e) => ({ ...e, createdAt: utc(e.createdAt)! })),
    move: row.move && { state: row.move.state, validators: decisionsOf(row.move.validators) },
  };
}

export function createContactChanges(deps: ContactChangeDeps) {
  const { db, temporal, config } = deps;

  async function findVisibleTask(account: AuthAccount, id: number): Promise<TaskRow> {
    const task = await loadTask(db, id);
    if (!task || !seesTask(account.handle, task)) throw notFound(TASK_NOT_FOUND);
    return task;
  }

  function handleOf(task: Pick<TaskRow, 'workflowId' | 'runId'>) {
    return temporal.workflow.getHandle<typeof contactChange>(task.workflowId, task.runId ?? undefined);
  }

  /**
   * The task as the read model has it, or, after an action, with what the workflow answered (`live`): an Update
   * answers as soon as the workflow has decided, and the row follows by one activity (its write). An end the row
   * already holds (done, with its date) wins over the answer's state; `acted` is the action's own history entry,
   * shown until the row has it.
   */
  function present(
    task: TaskRow,
    viewer: string,
    live?: TaskView,
    acted?: { actor: string; action: string },
  ): TaskResponse {
    const statusOf = new Map(live?.validators.map((v) => [v.handle, v.status]));
    // An item of a move: its validators decide on the move, and it is being applied while the move applies.
    const onMove = new Map(task.move?.validators.map((v) => [v.handle, v]));
    const validators = task.validators.map((v) => {
      const decision = onMove.get(v.handle);
      const status = itemValidatorStatus(statusOf.get(v.handle) ?? v.status, decision?.status);
      return {
        handle: v.handle,
        status: status as 'pending' | 'accepted' | 'refused',
        decidedAt: (v.decidedAt ?? (status === decision?.status ? decision.decidedAt : null))?.toISOString(),
      };
    });
    const state = (
      live && isOpen(task.state) ? live.state : itemStateShown(task.state, task.move?.state)
    ) as TaskState;
    const needsAttention = live ? live.needsAttention : (task.needsAttention as NeedsAttention | null);
    const history = task.events.map((e) => ({
      date: e.createdAt.toISOString(),
      actor: e.actor,
      action: e.action,
    }));
    if (acted && !history.some((e) => e.actor === acted.actor && e.action === acted.action))
      history.push({ date: new Date().toISOString(), ...acted });
    return {
      id: task.id,
      askingAccount: task.askingAccount,
      fromAccount: task.fromAccount,
      toAccount: task.toAccount,
      contactTypes: task.contactTypes as ContactType[],
      serviceDomain: task.serviceName,
      serviceType: task.serviceType,
      state,
      open: isOpen(state),
      canCancel: task.moveId === null && isCancellable(state) && mayCancel(viewer, task),
      canResendTo:
        resendTargets({ askingAccount: task.askingAccount, state, validators }, { by: viewer }) ?? [],
      ...(needsAttention ? { needsAttention } : {}),
      reason: (state === live?.state ? live.reason : task.reason) ?? undefined,
      dateRequest: task.dateRequest.toISOString(),
      dateDone: task.dateDone?.toISOString(),
      validators,
      awaiting: isOpen(state) ? validators.filter((v) => v.status === 'pending').map((v) => v.handle) : [],
      informed: task.informed,
      expiresAt: task.expiresAt.toISOString(),
      history,
      ...(task.moveId !== null ? { moveId: task.moveId } : {}),
    };
  }

  /**
   * From the read model alone, without a Query to the workflow: the row follows the workflow by at most the
   * activity writing its last step (milliseconds; longer only while a write is retried), and the action's own
   * answer came from the workflow (docs/decisions/read-model.md). A Query cost a round trip through the Temporal
   * server and the worker on every page load, and a whole replay for a task evicted from the worker's cache.
   */
  async function getTask(account: AuthAccount, id: number): Promise<TaskResponse> {
    return present(await findVisibleTask(account, id), account.handle);
  }

  async function listTaskIds(account: AuthAccount, state?: TaskState): Promise<number[]> {
    const handle = account.handle;
    const rows = await db.contactChangeTask.findMany({
      where: { AND: [state ? tasksShownIn(state) : {}, tasksSeenBy(handle)] },
      select: { id: true },
      orderBy: { id: 'desc' },
      take: 1000,
    });
    return rows.map((row) => row.id);
  }

  /** The service and everything the rule table needs to judge a change of its contacts. */
  async function loadChangeRequest(
    account: AuthAccount,
    serviceType: string,
    serviceName: string,
    body: z.infer<typeof changeContactBody>,
  ) {
    // The service, its three holders, the accounts the rules judge (holders and new contacts) and its role locks,
    // in one statement (Prisma took seven: docs/performance.md, 2026-12-08).
    const named = [...new Set(Object.values(body))];
    const [service] = await db.$queryRaw<ServiceToChange[]>`
      SELECT s.id, s.type, s.name, ${serviceHolders.columns},
             COALESCE((SELECT json_agg(json_build_object('handle', c.handle, 'billingStanding', c.billing_standing))
                         FROM account c
                        WHERE c.id IN (s.admin_id, s.tech_id, s.billing_id)
                           OR c.handle = ANY(${named}::text[])), '[]') AS accounts,
             COALESCE((SELECT json_agg(json_build_object('role', l.role, 'taskId', l.task_id))
                         FROM open_role_lock l WHERE l.service_id = s.id), '[]') AS locks
        FROM service s ${serviceHolders.joins}
       WHERE s.name = ${serviceName}`;
    if (!service || service.type !== serviceType) {
      throw serviceNotFound();
    }
    const contacts: ServiceContacts = {
      contactAdmin: service.contactAdmin,
      contactTech: service.contactTech,
      contactBilling: service.contactBilling,
    };
    const { accounts, locks } = service;
    const lockTasks =
      locks.length === 0
        ? []
        : (
            await db.contactChangeTask.findMany({
              where: { id: { in: locks.map((l) => l.taskId) } },
              include: TASK_PARTIES_INCLUDE,
            })
          ).map(taskParties);
    const openTasks: OpenTaskOnRole[] = locks.map((lock) => {
      const task = lockTasks.find((t) => t.id === lock.taskId)!;
      return { ...task, role: lock.role as ContactType, taskId: task.id };
    });
    const request: ChangeRequest = {
      asker: account.handle,
      service: contacts,
      changes: body,
      accounts: new Map(accounts.map((a) => [a.handle, a])),
      openTasks,
    };
    return { service, request, lockTasks };
  }

  /**
   * The rule table's refusal as the API's answer. A task in the way is named, with its address, to whoever may
   * see it (the asker of it, or the service's admin contact, who may then cancel it); to others only its role.
   */
  function refusalError(
    error: unknown,
    handle: string,
    lockTasks: (TaskParties & { id: number })[],
  ): unknown {
    // Someone who is not a contact learns no more than about a service that does not exist.
    if (error instanceof RuleRefusal && error.reason === 'notAContact') return serviceNotFound();
    if (!(error instanceof RuleRefusal)) return error;
    const blocking = lockTasks.find((task) => task.id === error.blockingTaskId);
    if (blocking && seesTask(handle, blocking)) {
      const address = `/1.0/me/task/contactChange/${blocking.id}`;
      return new ApiError(REFUSAL_STATUS[error.reason], error.reason, `${error.message}: ${address}`, {
        taskId: blocking.id,
        task: address,
        canCancel: mayCancel(handle, blocking),
      });
    }
    return new ApiError(REFUSAL_STATUS[error.reason], error.reason, error.message);
  }

  /**
   * A change judged without making it, for the portal's form while it is typed: each new contact on its own
   * (so every problem shows next to its own field), then who would validate and who would only be told.
   */
  async function checkChange(
    account: AuthAccount,
    serviceType: string,
    serviceName: string,
    body: z.infer<typeof changeContactBody>,
  ) {
    const { request, lockTasks } = await loadChangeRequest(account, serviceType, serviceName, body);
    const problems: z.infer<typeof changeCheckResponse>['problems'] = {};
    for (const role of Object.keys(body) as ContactType[]) {
      try {
        planContactChange({ ...request, changes: { [role]: body[role] } });
      } catch (error) {
        const refusal = refusalError(error, account.handle, lockTasks);
        if (!(refusal instanceof ApiError) || refusal.status === 404) throw refusal;
        const { taskId } = refusal.extra as { taskId?: number };
        problems[role] = {
          reason: refusal.reason,
          message: refusal.message,
          ...(taskId !== undefined ? { taskId } : {}),
        };
      }
    }
    const valid = Object.fromEntries(Object.entries(body).filter(([role]) => !(role in problems)));
    const tasks = Object.keys(valid).length
      ? planContactChange({ ...request, changes: valid }).map((task) => ({
          contactTypes: task.contactTypes,
          fromAccount: task.fromAccount,
          toAccount: task.toAccount,
          validators: task.validators,
          informed: task.informed,
          existingTaskId: task.existingTaskId,
        }))
      : [];
    return { problems, tasks };
  }

  async function requestChange(
    account: AuthAccount,
    serviceType: string,
    serviceName: string,
    body: z.infer<typeof changeContactBody>,
    sourceIp?: string,
  ): Promise<number[]> {
    const { service, request, lockTasks } = await loadChangeRequest(account, serviceType, serviceName, body);
    let planned;
    try {
      planned = planContactChange(request);
    } catch (error) {
      throw refusalError(error, account.handle, lockTasks);
    }
    const ids: number[] = [];
    for (const task of planned) {
      if (task.existingTaskId !== undefined) {
        ids.push(task.existingTaskId);
        continue;
      }
      const input = contactChangeInput(config, service, account.handle, task, sourceIp);
      // Armed before the start, so that the row's announcement cannot come before anyone waits for it.
      const announced = deps.registrations?.waitFor(contactChangeWorkflowId(input));
      let registered;
      try {
        const handle = await startContactChange(temporal, config.TEMPORAL_TASK_QUEUE, input);
        registered = await untilRegistered(handle.workflowId, handle.firstExecutionRunId, announced);
      } finally {
        announced?.cancel();
      }
      if (registered.reason === 'taskAlreadyOpen') {
        throw new ApiError(
          409,
          'taskAlreadyOpen',
          'Another task was opened for this role at the same moment',
        );
      }
      ids.push(registered.id);
    }
    return ids;
  }

  /**
   * The task's row, written by the workflow's first local activity: the answer comes from the read model, not
   * from the workflow's first task, which goes on to send the opening mails (and may retry them for a while).
   * Looked for at once (a request sent again finds its run's row there already), then when its announcement comes
   * (two looks per request), or, while announcements do not arrive (the listener's connection is down), every 10-100
   * ms (5-15 looks under load: docs/performance.md, 2026-12-08).
   */
  async function untilRegistered(workflowId: string, runId: string, announced?: RegistrationWait) {
    // A worker takes the new workflow's first task within milliseconds: this long means none is running.
    const started = Date.now();
    const until = started + config.TASK_REGISTRATION_TIMEOUT;
    for (;;) {
      const row = await db.contactChangeTask.findFirst({
        where: { workflowId, runId },
        select: { id: true, reason: true },
      });
      if (row) return row;
      if (Date.now() > until) {
        throw new ApiError(
          503,
          'taskNotRegisteredYet',
          'The request is taken but not registered yet: send it again in a moment, it will not be taken twice',
        );
      }
      if (announced?.listening) await announced.next(REGISTRATION_LOOK_ANYWAY_MS);
      else await new Promise((resolve) => setTimeout(resolve, registrationPollMs(Date.now() - started)));
    }
  }

  function openTaskOrThrow(task: Pick<TaskRow, 'state'>) {
    if (!isOpen(task.state)) {
      throw new ApiError(409, 'taskNotOpen', `This task is ${task.state}: it no longer takes this action`);
    }
  }

  async function decide(
    account: AuthAccount,
    id: number,
    decision: 'accept' | 'refuse',
    token: string,
    sourceIp?: string,
  ) {
    // Read once, with its history, before the Update: the answer is this row with what the workflow answered
    // (present). Reading it again afterwards cost 3-4 statements per click and showed nothing more than the
    // decision itself, whose write follows the answer (docs/performance.md, 2026-12-08).
    const task = await findVisibleTask(account, id);
    openTaskOrThrow(task);
    if (task.moveId !== null && deps.moves) {
      // The move's code acts on the move (accepting covers every item the person validates; refusing, the rest).
      const { outcome } = await deps.moves.decide(account, task.moveId, decision, token, [], sourceIp);
      return { outcome, task: present(await findVisibleTask(account, id), account.handle) };
    }
    const codeHash = hashCode(config.CODE_HASH_KEY, task.id, account.handle, token);
    const update = decision === 'accept' ? acceptUpdate : refuseUpdate;
    const result = await handleOf(task)
      .executeUpdate(update, { args: [{ account: account.handle, codeHash, sourceIp }] })
      .catch(rethrowAsApiError);
    throwUnlessDecided(result);
    const acted = { actor: account.handle, action: result.outcome };
    return { outcome: result.outcome, task: present(task, account.handle, result.task, acted) };
  }

  /** Sends a fresh code to those named (by default: oneself if awaited, else, for the asker, everyone awaited). */
  async function resend(account: AuthAccount, id: number, to?: string[], sourceIp?: string) {
    const task = await findVisibleTask(account, id);
    openTaskOrThrow(task);
    if (task.moveId !== null && deps.moves) return deps.moves.resend(account, task.moveId, to, sourceIp);
    const { resentTo, notYet } = await handleOf(task)
      .executeUpdate(resendUpdate, { args: [{ by: account.handle, to, sourceIp }] })
      .catch(rethrowAsApiError);
    return { resentTo, notYet };
  }

  /** Cancels the task; the answer is the task as cancelled (the mails telling everyone follow). */
  async function cancel(account: AuthAccount, id: number, sourceIp?: string) {
    const task = await findVisibleTask(account, id);
    openTaskOrThrow(task);
    if (task.moveId !== null) {
      throw new ApiError(
        409,
        'partOfMove',
        `This task is an item of move ${task.moveId}: cancel the move (POST /me/contactMove/${task.moveId}/cancel)`,
        { moveId: task.moveId },
      );
    }
    const cancelled = await handleOf(task)
      .executeUpdate(cancelUpdate, { args: [cancelRequestFor(account.handle, task, sourceIp)] })
      .catch(rethrowAsApiError);
    return present(task, account.handle, cancelled, {
      actor: account.handle,
      action: 'cancelled',
    });
  }

  return { getTask, listTaskIds, requestChange, checkChange, decide, resend, cancel };
}

/**
 * While announcements arrive, how long a request waits for its row's announcement before it looks all the same: an announcement
 * lost with the listener's connection costs that much, never the answer.
 */
export const REGISTRATION_LOOK_ANYWAY_MS = 500;

/**
 * The pause before the next look for a task's row, after `elapsedMs` of waiting: a fifth of the wait so far (at
 * least 10 ms, at most 100 ms), so that the row is seen at most 20 % later than it lands. Doubling from 5 ms up to
 * 100 ms saw a row that landed at 80 ms only at 155 ms (docs/performance.md, 2026-12-07).
 */
export function registrationPollMs(elapsedMs: number): number {
  return Math.min(100, Math.max(10, elapsedMs / 5));
}

/** What the workflow of one planned task starts with. */
export function contactChangeInput(
  config: ContactChangeDeps['config'],
  service: { id: number; type: string; name: string },
  askingAccount: string,
  task: PlannedTask,
  sourceIp?: string,
): ContactChangeInput {
  const { fromAccount, toAccount, contactTypes, validators, informed } = task;
  return {
    serviceId: service.id,
    serviceType: service.type,
    serviceName: service.name,
    askingAccount,
    fromAccount,
    toAccount,
    contactTypes,
    validators,
    informed,
    expiryMs: config.TASK_EXPIRY,
    reminderBeforeExpiryMs: config.REMINDER_BEFORE_EXPIRY,
    resendMinIntervalMs: config.RESEND_MIN_INTERVAL,
    requestedFromIp: sourceIp,
    searchAttributes: config.TEMPORAL_SEARCH_ATTRIBUTES === 'on',
  };
}

/**
 * Starts the task's workflow (its id is the business id: an identical retried request finds the same run). The
 * API's only way in; the bench also starts its bulk of open tasks with it.
 */
export function startContactChange(temporal: Client, taskQueue: string, input: ContactChangeInput) {
  return temporal.workflow.start<typeof contactChange>('contactChange', {
    taskQueue,
    workflowId: contactChangeWorkflowId(input),
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: taskSummary(input),
    staticDetails: `Validated by ${input.validators.join(' and ')}; told: ${input.informed.join(', ') || 'nobody'}.`,
    ...(input.searchAttributes
      ? {
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.serviceName, value: input.serviceName },
            {
              key: SEARCH_ATTRIBUTES.handles,
              value: [...new Set([input.askingAccount, input.fromAccount, input.toAccount])],
            },
            { key: SEARCH_ATTRIBUTES.state, value: 'todo' },
          ],
        }
      : {}),
  });
}

/**
 * A decision's outcome that decided nothing (a wrong, superseded or locked code: the workflow answers it rather
 * than rejecting the Update, so the try is counted) as the API's answer, for tasks and moves alike.
 */
export function throwUnlessDecided(result: { outcome: string; attemptsLeft?: number }): void {
  const { attemptsLeft } = result;
  if (result.outcome === 'wrongCode')
    throw new ApiError(403, 'wrongCode', `Wrong code: ${attemptsLeft} attempt(s) left`, { attemptsLeft });
  if (result.outcome === 'supersededCode') {
    const message = 'This code is from an older email: a newer email replaced it, use the code it carries';
    throw new ApiError(403, 'supersededCode', message, { attemptsLeft });
  }
  if (result.outcome === 'locked')
    throw new ApiError(403, 'codeLocked', REJECTIONS.codeLocked, { attemptsLeft: 0 });
}

/** The workflow's rejection of an Update as the API's answer (same reason); other errors pass on unchanged. */
export function rethrowAsApiError(error: unknown): never {
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    const type = error.cause.type as Rejection;
    if (type in REJECTIONS) {
      const [details] = (error.cause.details ?? []) as [Record<string, unknown>?];
      const retryAfterSeconds = details?.retryAfterSeconds;
      const message =
        type === 'resendTooSoon'
          ? `${REJECTIONS[type]}: try again in ${String(retryAfterSeconds)} s`
          : REJECTIONS[type];
      throw new ApiError(REJECTION_STATUS[type], type, message, details ?? {});
    }
  }
  if (error instanceof WorkflowNotFoundError)
    throw new ApiError(409, 'taskNotOpen', 'This task no longer takes this action');
  throw error;
}
