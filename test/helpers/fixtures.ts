import type { Db } from '../../lib/db';
import { hashPassword } from '../../api/auth/passwords';

export const PASSWORD = 'correct horse battery staple';
let passwordHash: Promise<string> | undefined;

export interface AccountSeed {
  handle: string;
  language?: 'es' | 'en' | 'fr';
  billingStanding?: 'good' | 'arrears';
}

export async function createAccounts(db: Db, seeds: AccountSeed[]) {
  passwordHash ??= hashPassword(PASSWORD);
  const hash = await passwordHash;
  await db.account.createMany({
    data: seeds.map((seed) => ({
      handle: seed.handle,
      email: `${seed.handle}@mail.test`,
      language: seed.language ?? 'en',
      billingStanding: seed.billingStanding ?? 'good',
      passwordHash: hash,
    })),
  });
}

export async function createService(
  db: Db,
  service: { name: string; type?: string; admin: string; tech: string; billing: string },
) {
  const ids = async (handle: string) => (await db.account.findUniqueOrThrow({ where: { handle } })).id;
  return db.service.create({
    data: {
      name: service.name,
      type: service.type ?? 'domain',
      adminId: await ids(service.admin),
      techId: await ids(service.tech),
      billingId: await ids(service.billing),
    },
  });
}

export async function contactsOf(db: Db, name: string) {
  const service = await db.service.findUniqueOrThrow({
    where: { name },
    include: { admin: true, tech: true, billing: true },
  });
  return { admin: service.admin.handle, tech: service.tech.handle, billing: service.billing.handle };
}
