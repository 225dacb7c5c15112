import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../lib/db';
import {
  checkLiteralTarget,
  guardedLookup,
  WebhookTargetRefused,
  type AllowedRange,
} from '../lib/webhook-targets';
import { webhookHeaders } from '../lib/webhooks';
import type { WebhookActivities } from '../workflows/webhook-delivery.messages';

export interface WebhookActivityDeps {
  db: Db;
  attemptTimeoutMs: number;
  /** Non-public ranges webhooks may reach all the same (WEBHOOK_ALLOWED_TARGETS). */
  allowedTargets: readonly AllowedRange[];
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

interface AttemptResult {
  statusCode?: number;
  error?: string;
  /** The host is, or now resolves to, an address webhooks may not reach (lib/webhook-targets.ts). */
  refused?: boolean;
}

/**
 * One POST, connected to an address checked at this very connection (a custom lookup, no second resolution), so
 * that a host re-pointed at a private address after it was subscribed (DNS rebinding) is refused. No redirects.
 */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  allowed: readonly AllowedRange[],
): Promise<AttemptResult> {
  const target = new URL(url);
  try {
    checkLiteralTarget(target, allowed);
  } catch (error) {
    return Promise.resolve({ error: (error as Error).message, refused: true });
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const request = send(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'contacts-webhooks/1.0',
          ...headers,
        },
        lookup: guardedLookup(allowed),
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        response.resume();
        const statusCode = response.statusCode!;
        const ok = statusCode >= 200 && statusCode < 300;
        resolve({ statusCode, error: ok ? undefined : `receiver answered ${statusCode}` });
      },
    );
    request.on('error', (error) =>
      resolve({ error: error.message.slice(0, 500), refused: error instanceof WebhookTargetRefused }),
    );
    request.end(body);
  });
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
      const result = await post(
        delivery.subscription.url,
        headers,
        body,
        deps.attemptTimeoutMs,
        deps.allowedTargets,
      );
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
      // A refused target is not retried: the delivery is given up at once, its attempt saying why.
      if (result.refused) throw ApplicationFailure.nonRetryable(result.error!, 'webhookTargetRefused');
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
