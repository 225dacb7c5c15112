import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities';
import { createSmtpMailer, type Mailer } from '../../activities/mailer';
import { startMailbox, type Mailbox } from '../../lib/mailbox';
import { createTestDatabase, type TestDatabase } from './database';

/** The real activities on a test database of their own, mailing through SMTP to a test mailbox. */
export interface ActivitiesUnderTest {
  database: TestDatabase;
  mailbox: Mailbox;
  mailer: Mailer;
  codeHashKey: string;
  activities: ReturnType<typeof createActivities>;
  close(): Promise<void>;
}

export async function startActivities(): Promise<ActivitiesUnderTest> {
  const [database, mailbox] = await Promise.all([createTestDatabase(), startMailbox()]);
  const mailer = createSmtpMailer(`smtp://127.0.0.1:${mailbox.port}`, 'Contacts <no-reply@contacts.test>');
  const codeHashKey = randomBytes(32).toString('hex');
  const activities = createActivities({
    db: database.db,
    mailer,
    codeHashKey,
    publicBaseUrl: 'http://contacts.test/',
  });
  return {
    database,
    mailbox,
    mailer,
    codeHashKey,
    activities,
    async close() {
      mailer.close();
      await Promise.all([mailbox.close(), database.drop()]);
    },
  };
}
