import { migrate } from '../lib/migrate';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  process.stderr.write('DATABASE_URL is not set\n');
  process.exit(1);
}
migrate(databaseUrl, (line) => process.stdout.write(`${line}\n`))
  .then((applied) =>
    process.stdout.write(`database is up to date (${applied.length} migration(s) applied now)\n`),
  )
  .catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
