import type { Db } from '../lib/db';
import { hashPassword } from '../api/auth/passwords';

/** The demo of the quick start: a few accounts (one in arrears) and services of several of the provider's types. */
export const DEMO_PASSWORD = 'contacts-demo';

export const DEMO_ACCOUNTS = [
  { handle: 'xx11111-ovh', email: 'ana.admin@example.test', language: 'es', billingStanding: 'good' },
  { handle: 'te22222-ovh', email: 'theo.tech@example.test', language: 'fr', billingStanding: 'good' },
  { handle: 'bi33333-ovh', email: 'bill.billing@example.test', language: 'en', billingStanding: 'good' },
  { handle: 'ne44444-ovh', email: 'nora.new@example.test', language: 'en', billingStanding: 'good' },
  { handle: 'ar55555-ovh', email: 'arno.arrears@example.test', language: 'fr', billingStanding: 'arrears' },
] as const;

const DEMO_SERVICES = [
  { name: 'example-shop.com', type: 'domain', admin: 0, tech: 1, billing: 2 },
  { name: 'example-blog.es', type: 'domain', admin: 0, tech: 0, billing: 0 },
  { name: 'ns3141592.ip-51-75-10.eu', type: 'dedicated/server', admin: 0, tech: 1, billing: 2 },
  { name: 'vps-7c1e2a94.vps.ovh.net', type: 'vps', admin: 0, tech: 1, billing: 4 },
  { name: 'exampleshop.cluster021.hosting', type: 'hosting/web', admin: 2, tech: 1, billing: 2 },
  { name: 'nora-portfolio.fr', type: 'domain', admin: 3, tech: 0, billing: 3 },
  { name: 'example-shop.net', type: 'email/domain', admin: 0, tech: 1, billing: 2 },
];

export async function seedDemo(db: Db): Promise<boolean> {
  if ((await db.account.count()) > 0) return false;
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  await db.account.createMany({ data: DEMO_ACCOUNTS.map((account) => ({ ...account, passwordHash })) });
  const accounts = await db.account.findMany({ orderBy: { id: 'asc' } });
  const id = (index: number) => accounts.find((a) => a.handle === DEMO_ACCOUNTS[index].handle)!.id;
  await db.service.createMany({
    data: DEMO_SERVICES.map((s) => ({
      name: s.name,
      type: s.type,
      adminId: id(s.admin),
      techId: id(s.tech),
      billingId: id(s.billing),
    })),
  });
  return true;
}
