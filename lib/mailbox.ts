import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on loopback that keeps what it receives: the local mailbox and the tests' mail sink. */
export interface StoredMail {
  id: number;
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  date: string;
}

export interface Mailbox {
  port: number;
  messages(): StoredMail[];
  /** Resolves with the first message (oldest first) that matches, waiting for it to arrive. */
  waitFor(match: (mail: StoredMail) => boolean, timeoutMs?: number): Promise<StoredMail>;
  /** Refuse connections for a while, as a mail server that is down (used by fault tests). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const unavailable = () => Object.assign(new Error('mail server unavailable'), { responseCode: 421 });

export async function startMailbox(
  options: { port?: number; host?: string; storeFile?: string } = {},
): Promise<Mailbox> {
  const stored: StoredMail[] =
    options.storeFile && existsSync(options.storeFile)
      ? JSON.parse(readFileSync(options.storeFile, 'utf8'))
      : [];
  // Each waiter looks at each new mail once (not the whole mailbox at every mail: a bench stores thousands).
  const waiters = new Set<(mail: StoredMail) => void>();
  let down = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      callback(down ? unavailable() : undefined);
    },
    // Senders keep sessions open (pooled): a mail server that is down refuses mail on those too.
    onMailFrom(_address, _session, callback) {
      callback(down ? unavailable() : undefined);
    },
    onData(stream, session, callback) {
      // Only the text is kept: no HTML rendering of the text (linkifying is the costly part of parsing).
      simpleParser(stream, {
        skipHtmlToText: true,
        skipTextToHtml: true,
        skipImageLinks: true,
        skipTextLinks: true,
      })
        .then((parsed) => {
          const mail: StoredMail = {
            id: stored.length + 1,
            messageId: parsed.messageId ?? '',
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            date: new Date().toISOString(),
          };
          stored.push(mail);
          if (options.storeFile) writeFileSync(options.storeFile, JSON.stringify(stored));
          for (const offer of waiters) offer(mail);
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    messages: () => [...stored],
    waitFor(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const found = stored.find(match);
        if (found) return resolve(found);
        const offer = (mail: StoredMail) => {
          if (!match(mail)) return;
          cleanup();
          resolve(mail);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching mail within ${timeoutMs} ms (${stored.length} received)`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(offer);
        };
        waiters.add(offer);
      });
    },
    setDown(value) {
      down = value;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The verification code and link of a code email, as a person reads them. */
export function readCodeEmail(mail: StoredMail): { code: string; link: string } {
  const link = /(https?:\/\/\S+\/validate\/\d+#code=\S+)/.exec(mail.text)?.[1];
  const code = link ? new URL(link).hash.replace('#code=', '') : undefined;
  if (!code || !link) throw new Error(`mail "${mail.subject}" holds no code link`);
  return { code, link };
}
