import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * The events an account can subscribe to, and the audit-log actions they come from (the audit log already records
 * every event; triggers queue these actions in its outbox: prisma/migrations/*webhooks*, *move_webhook_events*).
 * A move's own events are contactMove.*; each of its items is a task and has its contactChange.* events too.
 */
export const WEBHOOK_EVENTS = {
  'contactChange.created': ['created'],
  'contactChange.accepted': ['accepted'],
  'contactChange.refused': ['refused', 'refusedAtApply'],
  'contactChange.done': ['applied'],
  'contactChange.expired': ['expired'],
  'contactChange.aborted': ['cancelled'],
  'contactMove.created': ['moveCreated'],
  'contactMove.accepted': ['moveAccepted'],
  'contactMove.refused': ['moveRefused'],
  'contactMove.progress': ['moveApplying', 'moveProgress'],
  'contactMove.done': ['moveApplied'],
  'contactMove.expired': ['moveExpired'],
  'contactMove.aborted': ['moveCancelled', 'moveAborted'],
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENTS;
export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENTS) as [WebhookEventType, ...WebhookEventType[]];

const typeByAction = new Map<string, WebhookEventType>(
  WEBHOOK_EVENT_TYPES.flatMap((type) => WEBHOOK_EVENTS[type].map((action) => [action, type] as const)),
);

export function webhookEventOf(action: string): WebhookEventType | undefined {
  return typeByAction.get(action);
}

/** A Standard Webhooks secret: "whsec_" and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The Standard Webhooks headers of one attempt. During a secret rotation the message is signed with both secrets
 * (space-separated signatures), so a receiver holding either one verifies it.
 */
export function webhookHeaders(
  messageId: string,
  sentAt: Date,
  body: string,
  secrets: string[],
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, sentAt, body)).join(' '),
  };
}
