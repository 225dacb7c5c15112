/** The webhook delivery workflow's input and its activities' contract (shared by the worker and the dispatcher). */

export interface WebhookRetrySettings {
  /** First wait after a failed attempt; each next wait doubles, up to maximumIntervalMs. */
  initialIntervalMs: number;
  maximumIntervalMs: number;
  /** After this long since the first attempt the delivery is given up (documented in docs/observability.md). */
  giveUpAfterMs: number;
  /** One attempt: the receiver's answer is awaited this long. */
  attemptTimeoutMs: number;
}

export interface WebhookDeliveryInput {
  deliveryId: string;
  retry: WebhookRetrySettings;
}

export type WebhookDeliveryOutcome = 'delivered' | 'givenUp' | 'dropped';

export interface WebhookActivities {
  /** One attempt: posts the signed event, logs the attempt; throws (retryable) unless the receiver answers 2xx. */
  deliverWebhook(deliveryId: string): Promise<'delivered' | 'dropped'>;
  markWebhookGivenUp(deliveryId: string): Promise<void>;
}

export const webhookDeliveryWorkflowId = (deliveryId: string) => `webhook-delivery/${deliveryId}`;

/**
 * The deliveries' activities run on their own task queue (the workflow itself on the contact changes' one), so a
 * slow receiver never holds a contact change's activity slots.
 */
export const webhookTaskQueue = (contactChangeQueue: string) => `${contactChangeQueue}-webhooks`;
