import { execSync } from 'node:child_process';
import type { StoredMail } from '../lib/mailbox';
import { checkDeployment } from './deployment/checks';

/**
 * npm run deployment-check: the checks of scripts/deployment/checks.ts against a running deployment, such as
 * docker-compose.yml or the quick start (both seed the demo). API_URL, MAIL_URL (the mail catcher: this project's
 * or Mailpit), TEMPORAL_ADDRESS and TEMPORAL_UI_URL point at it; KILL_WORKER_COMMAND (say `docker kill
 * main_worker_1`) kills a worker between the acceptances of a last story; EXPECTED_WORKERS (say 2) is checked
 * against the workers seen in the histories.
 */
const mailUrl = process.env.MAIL_URL ?? 'http://localhost:8025';
const killCommand = process.env.KILL_WORKER_COMMAND;

/** Mail from this project's catcher (/api/messages) or from Mailpit (/api/v1/messages). */
async function mails(): Promise<StoredMail[]> {
  const ours = await fetch(`${mailUrl}/api/messages`);
  if (ours.ok) return (await ours.json()) as StoredMail[];
  const list = (await (await fetch(`${mailUrl}/api/v1/messages?limit=500`)).json()) as {
    messages: { ID: string; To: { Address: string }[]; Subject: string }[];
  };
  return Promise.all(
    list.messages.map(async (m, i) => {
      const full = (await (await fetch(`${mailUrl}/api/v1/message/${m.ID}`)).json()) as { Text: string };
      return {
        id: i,
        messageId: m.ID,
        from: '',
        to: m.To.map((t) => t.Address),
        subject: m.Subject,
        text: full.Text,
        date: '',
      };
    }),
  );
}

checkDeployment({
  apiUrl: process.env.API_URL ?? 'http://localhost:3000',
  temporalAddress: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233',
  uiUrl: process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233',
  mails,
  killWorker: killCommand ? () => void execSync(killCommand, { stdio: 'ignore' }) : undefined,
  workers: process.env.EXPECTED_WORKERS ? Number(process.env.EXPECTED_WORKERS) : undefined,
  log: (line) => process.stdout.write(`[deployment-check] ${line}\n`),
}).then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`deployment check failed: ${error.stack}\n`);
    process.exit(1);
  },
);
