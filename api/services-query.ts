import { Prisma } from '../generated/prisma/client';
import type { Db } from '../lib/db';
import type { ServiceContacts } from '../domain/contact-rules';
import { ROLE_HOLDER } from '../domain/roles';
import { CONTACT_TYPES, type ContactType } from '../workflows/contact-change.messages';

export interface ServiceFilter {
  type?: string;
  role?: ContactType;
  name?: string;
  cursor?: string;
  limit: number;
}

interface Row extends ServiceContacts {
  name: string;
  type: string;
}

/**
 * Services where the account holds a role, ordered by name, one keyset page at a time. Each role is its own
 * index range scan ((role_id, name) indexes), limited to one page, then merged: fast with 50,000+ services.
 */
export async function servicesOfAccount(db: Db, accountId: number, filter: ServiceFilter) {
  const roles = filter.role ? [filter.role] : CONTACT_TYPES;
  const conditions = (column: Prisma.Sql) => {
    const parts = [Prisma.sql`${column} = ${accountId}`];
    if (filter.cursor !== undefined) parts.push(Prisma.sql`name > ${filter.cursor}`);
    if (filter.type) parts.push(Prisma.sql`type = ${filter.type}`);
    if (filter.name) parts.push(Prisma.sql`name ILIKE ${`%${escapeLike(filter.name)}%`}`);
    return Prisma.join(parts, ' AND ');
  };
  const branches = roles.map(
    (role) =>
      Prisma.sql`(SELECT id FROM service WHERE ${conditions(Prisma.raw(ROLE_HOLDER[role].column))} ORDER BY name LIMIT ${filter.limit + 1})`,
  );
  const rows = await db.$queryRaw<Row[]>`
    SELECT s.name, s.type, a.handle AS "contactAdmin", t.handle AS "contactTech", b.handle AS "contactBilling"
    FROM (${Prisma.join(branches, ' UNION ')}) AS mine
    JOIN service s ON s.id = mine.id
    JOIN account a ON a.id = s.admin_id
    JOIN account t ON t.id = s.tech_id
    JOIN account b ON b.id = s.billing_id
    ORDER BY s.name
    LIMIT ${filter.limit + 1}`;
  const page = rows.slice(0, filter.limit);
  return { rows: page, nextCursor: rows.length > filter.limit ? page[page.length - 1].name : null };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
