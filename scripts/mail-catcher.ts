import { startMailbox } from '../lib/mailbox';
import { mailboxPage } from '../lib/mailbox-page';

/**
 * The mail catcher of the distributed deployment where its image cannot be pulled: an SMTP sink on
 * MAIL_SMTP_PORT (1025) and its page on MAIL_WEB_PORT (8025, JSON at /api/messages), on every interface.
 */
async function main() {
  const smtpPort = Number(process.env.MAIL_SMTP_PORT ?? 1025);
  const webPort = Number(process.env.MAIL_WEB_PORT ?? 8025);
  const mailbox = await startMailbox({ port: smtpPort, host: '0.0.0.0' });
  mailboxPage(mailbox).listen(webPort, '0.0.0.0');
  process.stdout.write(`mail catcher: SMTP on ${smtpPort}, page on ${webPort}\n`);
  const stop = () => void mailbox.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: Error) => {
  process.stderr.write(`mail catcher failed: ${error.message}\n`);
  process.exit(1);
});
