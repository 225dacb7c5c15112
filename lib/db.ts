import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from '../generated/prisma/client';

export type Db = PrismaClient;

export function createDb(databaseUrl: string, maxConnections = 10): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: maxConnections });
  return new PrismaClient({ adapter });
}

/**
 * A service's three holders as ServiceContacts' columns (contactAdmin, contactTech, contactBilling), and the joins
 * that give them, for a query whose service is `s`: the API's request, the move's selection and its apply read them
 * so, each in one statement.
 */
export const serviceHolders = {
  columns: Prisma.sql`a.handle AS "contactAdmin", h.handle AS "contactTech", b.handle AS "contactBilling"`,
  joins: Prisma.sql`JOIN account a ON a.id = s.admin_id
        JOIN account h ON h.id = s.tech_id
        JOIN account b ON b.id = s.billing_id`,
};
