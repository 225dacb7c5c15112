import { Prisma } from '../generated/prisma/client';
import type { Db } from '../lib/db';
import type { ContactType } from '../workflows/contact-change.messages';

export interface ServiceFilter {
  type?: string;
  role?: ContactType;
  name?: string;
  cursor?: string;
  limit: number;
}

interface Row {
  name: string;
  type: string;
  admin: string;
  tech: string;
  billing: string;
}

const ROLE_COLUMNS: Record<ContactType, Prisma.Sql> = {
  contactAdmin: Prisma.sql`admin_id`,
  contactTech: Prisma.sql`tech_id`,
  contactBilling: Prisma.sql`billing_id`,
};

/**
 * Services where the account holds a role, ordered by name, one keyset page at a time. Each role is its own
 * index range scan ((role_id, name) indexes), limited to one page, then merged: fast with 50,000+ services.
 */
export async function servicesOfAccount(db: Db, accountId: number, filter: ServiceFilter) {
  const roles = filter.role ? [filter.role] : (Object.keys(ROLE_COLUMNS) as ContactType[]);
  const conditions = (column: Prisma.Sql) => {
    const parts = [Prisma.sql`${column} = ${accountId}`];
    if (filter.cursor !== undefined) parts.push(Prisma.sql`name > ${filter.cursor}`);
    if (filter.type) parts.push(Prisma.sql`type = ${filter.type}`);
    if (filter.name) parts.push(Prisma.sql`name ILIKE ${`%${escapeLike(filter.name)}%`}`);
    return Prisma.join(parts, ' AND ');
  };
  const branches = roles.map(
    (role) =>
      Prisma.sql`(SELECT id FROM service WHERE ${conditions(ROLE_COLUMNS[role])} ORDER BY name LIMIT ${filter.limit + 1})`,
  );
  const rows = await db.$queryRaw<Row[]>`
    SELECT s.name, s.type, a.handle AS admin, t.handle AS tech, b.handle AS billing
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
