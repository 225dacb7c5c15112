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

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function createSmtpMailer(smtpUrl: string, from: string, dkim?: DkimSigning): Mailer {
  // Pooled: one SMTP session carries many mails instead of a connection and a greeting per mail.
  const url = new URL(smtpUrl);
  if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
  const transport = nodemailer.createTransport(url.toString());
  return {
    async send(mail) {
      await transport.sendMail({
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        dkim,
      });
    },
    close: () => transport.close(),
  };
}
