import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPostgres, type LocalPostgres } from '../lib/local-postgres';
import { freePort } from '../lib/net';
import { temporalBinary } from '../lib/temporal-binaries';

declare global {
  var localPostgresForTests: { server: LocalPostgres; folder: string } | undefined;
}

/**
 * Installs the pinned Temporal binaries once, and gives the tests a PostgreSQL server: the one named by
 * TEST_DATABASE_ADMIN_URL (CI starts Debian's cluster), or else a private one started here in a temp folder.
 */
export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stdout.write(`\n${line}`);
  temporalBinary('testServer', log);
  temporalBinary('cli', log);
  if (!process.env.TEST_DATABASE_ADMIN_URL) {
    const port = await freePort(); // free and reserved: never another stack's port
    const folder = mkdtempSync(join(tmpdir(), 'contacts-pg-'));
    const server = await startLocalPostgres(folder, port, log);
    globalThis.localPostgresForTests = { server, folder };
    process.env.TEST_DATABASE_ADMIN_URL = server.url('postgres');
  }
}
