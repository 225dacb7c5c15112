import { createDb } from '../lib/db';
import { DEMO_PASSWORD, seedDemo } from './seed-data';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('DATABASE_URL is not set\n');
  process.exit(1);
}
const db = createDb(url, 2);
void seedDemo(db)
  .then((seeded) =>
    process.stdout.write(
      seeded ? `demo seeded (password: ${DEMO_PASSWORD})\n` : 'database already has accounts\n',
    ),
  )
  .finally(() => db.$disconnect());
