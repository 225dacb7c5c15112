import { ActivityFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import {
  type WebhookActivities,
  type WebhookDeliveryInput,
  type WebhookDeliveryOutcome,
  webhookTaskQueue,
} from './webhook-delivery.messages';

/**
 * Delivers one event to one subscription: attempts with exponential backoff (the activity's retry policy) until
 * the receiver answers 2xx or giveUpAfterMs has passed since the first attempt; then records it given up.
 * It runs beside the contact changes (one workflow sandbox per worker process, docs/performance.md); its
 * activities, which wait on customers' receivers, run on their own task queue.
 */
export async function webhookDelivery({
  deliveryId,
  retry,
}: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
  const taskQueue = webhookTaskQueue(workflowInfo().taskQueue);
  const { deliverWebhook } = proxyActivities<WebhookActivities>({
    taskQueue,
    startToCloseTimeout: retry.attemptTimeoutMs + 5_000,
    scheduleToCloseTimeout: retry.giveUpAfterMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: retry.maximumIntervalMs,
    },
  });
  const { markWebhookGivenUp } = proxyActivities<WebhookActivities>({
    taskQueue,
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 100 },
  });
  try {
    return await deliverWebhook(deliveryId);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    await markWebhookGivenUp(deliveryId);
    return 'givenUp';
  }
}
