import { Prisma } from '../generated/prisma/client';
import { serviceHolders, type Db } from './db';
import type { KnownAccount, OpenTaskOnRole, ServiceContacts } from '../domain/contact-rules';
import { planMoveItem, type MoveItemPlan } from '../domain/moves';
import { ROLE_HOLDER } from '../domain/roles';
import type { ContactType } from '../workflows/contact-change.messages';

/**
 * The database reads behind a move: which services a selection names, and each one's plan by the rule table.
 * Shared by the API (dry run, create) and the move's first activity (which plans again, on the database as it is
 * then, inside the transaction that records the items).
 */

type Reader = Db | Prisma.TransactionClient;

export interface MoveParties {
  asker: string;
  fromAccount: string;
  toAccount: string;
  roles: readonly ContactType[];
}

export interface SelectedService {
  id: number;
  name: string;
  type: string;
  contacts: ServiceContacts;
}

export interface PlannedItem {
  service: SelectedService;
  plan: MoveItemPlan;
}

export interface MoveFilter {
  serviceType?: string;
  nameContains?: string;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Every service where `fromAccountId` holds one of the roles, narrowed by the filter: one index scan per role
 * (the (role_id, name) B-trees, or the trigram GIN indexes for a name part). At most `limit` ids.
 */
export async function servicesMatching(
  db: Reader,
  fromAccountId: number,
  roles: readonly ContactType[],
  filter: MoveFilter,
  limit: number,
): Promise<number[]> {
  const branches = roles.map((role) => {
    const parts = [Prisma.sql`${Prisma.raw(ROLE_HOLDER[role].column)} = ${fromAccountId}`];
    if (filter.serviceType) parts.push(Prisma.sql`type = ${filter.serviceType}`);
    if (filter.nameContains) parts.push(Prisma.sql`name ILIKE ${`%${escapeLike(filter.nameContains)}%`}`);
    return Prisma.sql`SELECT id FROM service WHERE ${Prisma.join(parts, ' AND ')}`;
  });
  const rows = await db.$queryRaw<{ id: number }[]>`
    SELECT id FROM (${Prisma.join(branches, ' UNION ')}) AS matching LIMIT ${limit}`;
  return rows.map((row) => row.id);
}

/** The ids of the services so named (names that exist only; the caller tells the others apart). */
export async function servicesNamed(db: Reader, names: string[]): Promise<{ id: number; name: string }[]> {
  return db.$queryRaw<{ id: number; name: string }[]>`
    SELECT id, name FROM service WHERE name = ANY(${names}::text[])`;
}

/** Plans each service (ordered by name) with the rule table, from three queries whatever their number. */
export async function planMove(
  db: Reader,
  parties: MoveParties,
  serviceIds: number[],
): Promise<PlannedItem[]> {
  const [services, locks, accounts] = await Promise.all([
    db.$queryRaw<(ServiceContacts & { id: number; name: string; type: string })[]>`
      SELECT s.id, s.name, s.type, ${serviceHolders.columns}
        FROM service s ${serviceHolders.joins}
       WHERE s.id = ANY(${serviceIds}::int[])
       ORDER BY s.name`,
    db.$queryRaw<(OpenTaskOnRole & { serviceId: number })[]>`
      SELECT l.service_id AS "serviceId", l.role, t.id AS "taskId", t.asking_account AS "askingAccount",
             t.from_account AS "fromAccount", t.to_account AS "toAccount", t.contact_types AS "contactTypes"
        FROM open_role_lock l
        JOIN contact_change_task t ON t.id = l.task_id
       WHERE l.service_id = ANY(${serviceIds}::int[])`,
    // The rule table reads the asker, the current holder of each moved role (fromAccount) and the new one.
    db.account.findMany({
      where: { handle: { in: [parties.asker, parties.fromAccount, parties.toAccount] } },
      select: { handle: true, billingStanding: true },
    }),
  ]);
  const known = new Map<string, KnownAccount>(accounts.map((a) => [a.handle, a]));
  const locksByService = new Map<number, OpenTaskOnRole[]>();
  for (const lock of locks) {
    const list = locksByService.get(lock.serviceId) ?? [];
    list.push(lock);
    locksByService.set(lock.serviceId, list);
  }
  return services.map(({ id, name, type, ...contacts }) => {
    const service = { id, name, type, contacts };
    const plan = planMoveItem({
      ...parties,
      service,
      accounts: known,
      openTasks: locksByService.get(id) ?? [],
    });
    return { service, plan };
  });
}

/** A move's items grouped by (state, reason): what its counts are made of (one scan of the (move_id, state) index). */
export function moveItemGroups(db: Reader, moveId: number) {
  return db.$queryRaw<{ state: string; reason: string | null; count: number }[]>`
    SELECT state, reason, count(*)::int AS count FROM contact_change_task WHERE move_id = ${moveId}
     GROUP BY state, reason`;
}
