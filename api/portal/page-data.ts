import {
  CONTACT_TYPES,
  OPEN_STATES,
  type ContactType,
  type TaskState,
} from '../../workflows/contact-change.messages';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../lib/webhooks';
import type { PortalLanguage } from './i18n';

export type PortalPage =
  | 'login'
  | 'contacts'
  | 'requests'
  | 'validate'
  | 'profile'
  | 'credential'
  | 'apiKeys'
  | 'webhooks'
  | 'move'
  | 'validateMove'
  | 'notFound';

/**
 * What the server tells the portal's script in each page: the page, its language and parameters, and the
 * server's own constants (so the browser bundle holds no copy of them and does not pull in the workflow library).
 */
export interface PortalData {
  page: PortalPage;
  language: PortalLanguage;
  params: Record<string, string>;
  contactTypes: readonly ContactType[];
  openStates: readonly TaskState[];
  webhookEvents: readonly WebhookEventType[];
}

export function portalData(
  page: PortalPage,
  language: PortalLanguage,
  params: Record<string, string>,
): PortalData {
  return {
    page,
    language,
    params,
    contactTypes: CONTACT_TYPES,
    openStates: OPEN_STATES,
    webhookEvents: WEBHOOK_EVENT_TYPES,
  };
}
