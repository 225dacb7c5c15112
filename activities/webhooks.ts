import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../lib/db';
import { webhookHeaders } from '../lib/webhooks';
import type { WebhookActivities } from '../workflows/webhook-delivery.messages';

export interface WebhookActivityDeps {
  db: Db;
  attemptTimeoutMs: number;
  /** Told of each attempt's outcome (metrics). */
  onAttempt?: (outcome: 'delivered' | 'failed') => void;
}

/** The secrets that sign now: the current one, and the previous one until its rotation window closes. */
function signingSecrets(subscription: {
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
}) {
  const previousValid =
    subscription.previousSecret &&
    subscription.previousSecretUntil &&
    subscription.previousSecretUntil > new Date();
  return previousValid ? [subscription.secret, subscription.previousSecret!] : [subscription.secret];
}

async function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'contacts-webhooks/1.0', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return {
      statusCode: response.status,
      error: response.ok ? undefined : `receiver answered ${response.status}`,
    };
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    return { statusCode: undefined, error: (cause ?? (error as Error)).message.slice(0, 500) };
  }
}

export function createWebhookActivities(deps: WebhookActivityDeps): WebhookActivities {
  const { db } = deps;
  return {
    async deliverWebhook(deliveryId) {
      const delivery = await db.webhookDelivery.findUnique({
        where: { id: deliveryId },
        include: { subscription: true },
      });
      if (!delivery || delivery.state === 'delivered') return 'delivered';
      if (!delivery.subscription.enabled) {
        await db.webhookDelivery.update({
          where: { id: deliveryId },
          data: { state: 'dropped', finishedAt: new Date() },
        });
        return 'dropped';
      }
      const body = JSON.stringify(delivery.payload);
      const headers = webhookHeaders(deliveryId, new Date(), body, signingSecrets(delivery.subscription));
      const started = Date.now();
      const result = await post(delivery.subscription.url, headers, body, deps.attemptTimeoutMs);
      const delivered = result.error === undefined;
      await db.$transaction([
        db.webhookAttempt.create({
          data: {
            deliveryId,
            attempt: Context.current().info.attempt,
            startedAt: new Date(started),
            durationMs: Date.now() - started,
            statusCode: result.statusCode ?? null,
            error: result.error ?? null,
          },
        }),
        db.webhookDelivery.update({
          where: { id: deliveryId },
          data: {
            attempts: { increment: 1 },
            ...(delivered ? { state: 'delivered', finishedAt: new Date() } : {}),
          },
        }),
      ]);
      deps.onAttempt?.(delivered ? 'delivered' : 'failed');
      if (!delivered) throw ApplicationFailure.retryable(result.error!, 'webhookReceiverFailed');
      return 'delivered';
    },

    async markWebhookGivenUp(deliveryId) {
      await db.webhookDelivery.updateMany({
        where: { id: deliveryId, state: 'pending' },
        data: { state: 'givenUp', finishedAt: new Date() },
      });
    },
  };
}
