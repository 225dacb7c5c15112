import { randomBytes } from 'node:crypto';
import { createDb, type Db } from '../../lib/db';
import { dropDatabase, ensureDatabase } from '../../lib/local-postgres';
import { migrate } from '../../lib/migrate';

export function adminUrl(): string {
  const url = process.env.TEST_DATABASE_ADMIN_URL;
  if (!url) throw new Error('TEST_DATABASE_ADMIN_URL is not set (test/global-setup.ts sets it)');
  return url;
}

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `contacts_test_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(adminUrl(), name);
  const url = Object.assign(new URL(adminUrl()), { pathname: `/${name}` }).toString();
  await migrate(url);
  const db = createDb(url, 5);
  return {
    url,
    db,
    async drop() {
      await db.$disconnect();
      await dropDatabase(adminUrl(), name);
    },
  };
}
