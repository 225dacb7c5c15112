import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Mailer } from '../activities/mailer';
import type { Db } from '../lib/db';
import type { WorkerMetrics } from '../lib/metrics';
import { tracingWorkerOptions, type Tracing } from '../lib/tracing';
import type { ApplyResult, OpenTaskResult, RecordTaskArgs } from '../workflows/contact-change.activities';

const ENDING_ACTIONS = new Set(['refused', 'refusedAtApply', 'expired', 'cancelled']);
const MAIL_ACTIVITIES = new Set(['issueCodes', 'sendStepMails']);

/** Counts what the SMTP server accepted and refused, around the real mailer. */
export function countingMailer(mailer: Mailer, metrics: WorkerMetrics): Mailer {
  return {
    async send(mail) {
      try {
        await mailer.send(mail);
        metrics.mailsSent.inc();
      } catch (error) {
        metrics.mailsFailed.inc();
        throw error;
      }
    },
    close: () => mailer.close(),
  };
}

/**
 * The task metrics, read from what the contact-change activities are asked to record and what they answer, so
 * the workflow and its activities carry no metrics code. An observation never fails an activity.
 */
export function metricsInterceptor(metrics: WorkerMetrics, db: Db): ActivityInterceptorsFactory {
  const secondsSinceRequest = async (taskId: number) => {
    const task = await db.contactChangeTask.findUnique({
      where: { id: taskId },
      select: { dateRequest: true },
    });
    return task ? (Date.now() - task.dateRequest.getTime()) / 1000 : undefined;
  };

  async function observe(activity: string, args: unknown, result: unknown) {
    if (activity === 'openTask') {
      metrics.tasksOpened.inc();
      if ((result as OpenTaskResult).conflict) metrics.tasksEnded.inc({ state: 'refused' });
    } else if (activity === 'recordTask') {
      const { event, state } = args as RecordTaskArgs;
      if (event.action === 'wrongCode' || event.action === 'locked') {
        metrics.codeRejections.inc({ outcome: event.action });
      } else if (ENDING_ACTIONS.has(event.action)) {
        metrics.tasksEnded.inc({ state });
      }
    } else if (activity === 'applyChange') {
      // The last acceptance is written by the apply, in its transaction: it counts whether or not the change held.
      const seconds = await secondsSinceRequest((args as { taskId: number }).taskId);
      if (seconds !== undefined) metrics.timeToLastAcceptance.observe(seconds);
      if ((result as ApplyResult).applied) {
        metrics.tasksEnded.inc({ state: 'done' });
        if (seconds !== undefined) metrics.timeToApplied.observe(seconds);
      }
    } else if (activity === 'markWebhookGivenUp') {
      metrics.webhookGivenUp.inc();
    }
  }

  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        if (MAIL_ACTIVITIES.has(activity) && ctx.info.attempt > 1) {
          metrics.mailActivityRetries.inc({ activity });
        }
        const result = await next(input);
        await observe(activity, input.args[0], result).catch(() => undefined);
        return result;
      },
    },
  });
}

/** The interceptors and sinks of a worker: traces when tracing is on, task metrics when metrics are kept. */
export function observabilityOptions(options: { db: Db; metrics?: WorkerMetrics; tracing?: Tracing }) {
  const traced = tracingWorkerOptions(options.tracing);
  return {
    interceptors: {
      workflowModules: traced.workflowModules,
      activity: [
        ...traced.activity,
        ...(options.metrics ? [metricsInterceptor(options.metrics, options.db)] : []),
      ],
    },
    sinks: traced.sinks,
  };
}
