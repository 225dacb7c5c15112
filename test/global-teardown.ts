import { rmSync } from 'node:fs';

/** Stops the tests' private PostgreSQL, if global-setup started one, and removes its temporary folder. */
export default async function globalTeardown(): Promise<void> {
  const local = globalThis.localPostgresForTests;
  if (!local) return;
  await local.server.stop();
  rmSync(local.folder, { recursive: true, force: true });
}
