import nodemailer from 'nodemailer';
import type { DkimSigning } from '../lib/dkim';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** The same content as the text, for mail clients that show HTML (the text stays the alternative). */
  html?: string;
  messageId: string;
}

/** The recipient's mail server refused the mail for good (SMTP 5xx): sending it again would change nothing. */
export class MailRejected extends Error {
  constructor(readonly response: string) {
    super(`mail refused: ${response}`);
    this.name = 'MailRejected';
  }
}

/**
 * Whether an SMTP failure is permanent. A 5xx answer (unknown mailbox, address refused, policy) is; a 4xx answer
 * (try later), a connection refused or lost, and a timeout are not: the mail is sent again later.
 */
export function isPermanentSmtpFailure(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

export interface Mailer {
  /** Sends one mail; throws MailRejected when it is refused for good, any other error when it may go later. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function createSmtpMailer(smtpUrl: string, from: string, dkim?: DkimSigning): Mailer {
  // Pooled: one SMTP session carries many mails instead of a connection and a greeting per mail.
  const url = new URL(smtpUrl);
  if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
  // Every wait bounded well inside the mail activity's 20 s and the claim's lease (activities/index.ts): a mail
  // server that stops answering fails the send, which frees the mail for the next attempt, instead of leaving a
  // send that could still complete minutes later, beside that attempt's (nodemailer waits up to 10 minutes).
  const transport = nodemailer.createTransport({
    url: url.toString(),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 15_000,
  });
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          dkim,
        });
      } catch (error) {
        if (!isPermanentSmtpFailure(error)) throw error;
        const { response, responseCode } = error as { response?: string; responseCode: number };
        throw new MailRejected(response ?? String(responseCode));
      }
    },
    close: () => transport.close(),
  };
}
