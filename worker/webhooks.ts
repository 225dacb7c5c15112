import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createWebhookActivities } from '../activities/webhooks';
import type { Config } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { WorkerMetrics } from '../lib/metrics';
import type { Tracing } from '../lib/tracing';
import { webhookEventOf, type WebhookEventType } from '../lib/webhooks';
import { whoSeesMove, type MoveParties } from '../domain/moves';
import { TASK_PARTIES_INCLUDE, taskParties, whoSeesTask, type TaskParties } from '../domain/tasks';
import { observabilityOptions } from './metrics';
import type { webhookDelivery } from '../workflows/webhook-delivery';
import {
  webhookDeliveryWorkflowId,
  webhookTaskQueue,
  type WebhookRetrySettings,
} from '../workflows/webhook-delivery.messages';

type WebhookConfig = Pick<
  Config,
  | 'WEBHOOK_RETRY_INITIAL'
  | 'WEBHOOK_RETRY_MAX'
  | 'WEBHOOK_TIMEOUT'
  | 'WEBHOOK_GIVE_UP_AFTER'
  | 'WEBHOOK_DISPATCH_INTERVAL'
  | 'WEBHOOK_ALLOWED_TARGETS'
>;

export function webhookRetrySettings(config: WebhookConfig): WebhookRetrySettings {
  return {
    initialIntervalMs: config.WEBHOOK_RETRY_INITIAL,
    maximumIntervalMs: config.WEBHOOK_RETRY_MAX,
    giveUpAfterMs: config.WEBHOOK_GIVE_UP_AFTER,
    attemptTimeoutMs: config.WEBHOOK_TIMEOUT,
  };
}

/**
 * The worker of the deliveries' activities: their own task queue, so receivers never hold a contact change's
 * slots. It runs no workflow (the delivery workflow runs in the contact changes' worker, createWorker): a second
 * workflow sandbox would cost its own V8 isolate and bundle, about 60 MiB (docs/performance.md).
 */
export function createWebhookWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  config: WebhookConfig;
  metrics?: WorkerMetrics;
  tracing?: Tracing;
}): Promise<Worker> {
  const { metrics } = options;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: webhookTaskQueue(options.taskQueue),
    activities: createWebhookActivities({
      db: options.db,
      attemptTimeoutMs: options.config.WEBHOOK_TIMEOUT,
      allowedTargets: options.config.WEBHOOK_ALLOWED_TARGETS,
      onAttempt: metrics && ((outcome) => metrics.webhookAttempts.inc({ outcome })),
    }),
    interceptors: { activity: observabilityOptions(options).interceptors.activity },
    maxConcurrentActivityTaskExecutions: 100,
  });
}

interface EventTask extends Omit<TaskParties, 'serviceAdmin'> {
  id: number;
  serviceName: string;
  serviceType: string;
  contactTypes: string[];
  reason: string | null;
  service: { admin: { handle: string } };
}

interface EventMove extends MoveParties {
  id: number;
  contactTypes: string[];
  reason: string | null;
}

interface AuditRow {
  actor: string;
  createdAt: Date;
  detail: unknown;
  task: EventTask | null;
  move: EventMove | null;
}

/** Who an event concerns: whoever may see its task or move (a move item's events are its task's). */
function partiesOf(event: AuditRow): Set<string> {
  if (event.task) return whoSeesTask(taskParties(event.task));
  return event.move ? whoSeesMove(event.move) : new Set();
}

const reasonIn = (detail: unknown) => {
  const reason = (detail as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : undefined;
};

/** A move's figures at that moment (total, applied, skipped, refused, remaining...), from the event's detail. */
const countsIn = (detail: unknown) => {
  const numeric = Object.entries((detail ?? {}) as Record<string, unknown>).filter(
    (entry): entry is [string, number] => typeof entry[1] === 'number',
  );
  return numeric.length > 0 ? { counts: Object.fromEntries(numeric) } : {};
};

/** What a receiver gets: what happened to which task or move, by whom; never a code (none is in the database). */
function payloadOf(type: WebhookEventType, event: AuditRow) {
  const common = { type, timestamp: event.createdAt.toISOString() };
  if (event.task) {
    const task = event.task;
    const reason = type === 'contactChange.refused' ? (reasonIn(event.detail) ?? task.reason) : undefined;
    return {
      ...common,
      data: {
        taskId: task.id,
        serviceName: task.serviceName,
        serviceType: task.serviceType,
        contactTypes: task.contactTypes,
        askingAccount: task.askingAccount,
        fromAccount: task.fromAccount,
        toAccount: task.toAccount,
        actor: event.actor,
        ...(reason ? { reason } : {}),
      },
    };
  }
  const move = event.move!;
  const reason = reasonIn(event.detail);
  return {
    ...common,
    data: {
      moveId: move.id,
      contactTypes: move.contactTypes,
      askingAccount: move.askingAccount,
      fromAccount: move.fromAccount,
      toAccount: move.toAccount,
      actor: event.actor,
      ...countsIn(event.detail),
      ...(reason ? { reason } : {}),
    },
  };
}

const BATCH = 200;

/**
 * Turns the outbox's events into deliveries (one per interested subscription), then starts one delivery workflow
 * per delivery. Both steps claim rows with SKIP LOCKED, so several workers may run a dispatcher each; a delivery
 * whose workflow was not started yet (the process stopped in between) is started by the next pass.
 */
export function startWebhookDispatcher(deps: {
  db: Db;
  client: Client;
  taskQueue: string;
  config: WebhookConfig;
  logger: Logger;
}): { stop(): Promise<void>; dispatch(): Promise<number> } {
  const { db, client, logger } = deps;
  const retry = webhookRetrySettings(deps.config);

  async function queueDeliveries(): Promise<number> {
    return db.$transaction(async (tx) => {
      const claimed = await tx.$queryRaw<{ audit_event_id: bigint }[]>`
        SELECT audit_event_id FROM webhook_outbox ORDER BY audit_event_id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`;
      if (claimed.length === 0) return 0;
      const ids = claimed.map((row) => row.audit_event_id);
      const events = await tx.auditEvent.findMany({
        where: { id: { in: ids } },
        include: {
          task: { include: TASK_PARTIES_INCLUDE },
          move: { include: { validators: { select: { handle: true } } } },
        },
      });
      const handles = [...new Set(events.flatMap((event) => [...partiesOf(event)]))];
      const subscriptions = await tx.webhookSubscription.findMany({
        where: { enabled: true, account: { handle: { in: handles } } },
        include: { account: { select: { handle: true } } },
      });
      const deliveries = events.flatMap((event) => {
        const type = webhookEventOf(event.action);
        if (!type) return [];
        const parties = partiesOf(event);
        return subscriptions
          .filter((s) => parties.has(s.account.handle) && (s.events.length === 0 || s.events.includes(type)))
          .map((s) => ({
            id: `msg_${event.id}_${s.id}`,
            subscriptionId: s.id,
            auditEventId: event.id,
            eventType: type,
            payload: payloadOf(type, event),
            state: 'queued',
          }));
      });
      await tx.webhookDelivery.createMany({ data: deliveries, skipDuplicates: true });
      await tx.webhookOutbox.deleteMany({ where: { auditEventId: { in: ids } } });
      return claimed.length;
    });
  }

  async function startWorkflows(): Promise<number> {
    const queued = await db.webhookDelivery.findMany({
      where: { state: 'queued' },
      orderBy: { createdAt: 'asc' },
      take: BATCH,
      select: { id: true },
    });
    for (const { id } of queued) {
      try {
        await client.workflow.start<typeof webhookDelivery>('webhookDelivery', {
          taskQueue: deps.taskQueue,
          workflowId: webhookDeliveryWorkflowId(id),
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [{ deliveryId: id, retry }],
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      await db.webhookDelivery.updateMany({ where: { id, state: 'queued' }, data: { state: 'pending' } });
    }
    return queued.length;
  }

  async function dispatch(): Promise<number> {
    let total = 0;
    for (;;) {
      const events = await queueDeliveries();
      const started = await startWorkflows();
      total += events + started;
      if (events < BATCH && started < BATCH) return total;
    }
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = dispatch()
      .catch((error: Error) => logger.warn({ err: error.message }, 'webhook dispatch failed; retrying'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, deps.config.WEBHOOK_DISPATCH_INTERVAL);
      });
  };
  tick();
  return {
    dispatch,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
