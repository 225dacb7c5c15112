import type { ContactType } from '../workflows/contact-change.messages';
import type { ServiceContacts } from './contact-rules';

/** Where each role is held on a service: the Prisma relation, its foreign key field and its SQL column. */
export const ROLE_HOLDER = {
  contactAdmin: { relation: 'admin', field: 'adminId', column: 'admin_id' },
  contactTech: { relation: 'tech', field: 'techId', column: 'tech_id' },
  contactBilling: { relation: 'billing', field: 'billingId', column: 'billing_id' },
} as const satisfies Record<ContactType, { relation: string; field: string; column: string }>;

type HolderRelation = (typeof ROLE_HOLDER)[ContactType]['relation'];

/** The handles holding each role, from a service loaded with its three holders. */
export function contactsOf(service: Record<HolderRelation, { handle: string }>): ServiceContacts {
  return {
    contactAdmin: service[ROLE_HOLDER.contactAdmin.relation].handle,
    contactTech: service[ROLE_HOLDER.contactTech.relation].handle,
    contactBilling: service[ROLE_HOLDER.contactBilling.relation].handle,
  };
}

/** The service's columns to set so that `holderId` holds these roles. */
export function roleAssignment(roles: readonly ContactType[], holderId: number) {
  return Object.fromEntries(roles.map((role) => [ROLE_HOLDER[role].field, holderId])) as Partial<
    Record<(typeof ROLE_HOLDER)[ContactType]['field'], number>
  >;
}
