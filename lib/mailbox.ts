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

/** A mail (or a session) the mailbox refused, as its log would show it: the checkers compare it with the app's word. */
export interface RefusedMail {
  date: string;
  code: number;
  /** Known once the whole mail was read (a refusal at the end of its data); empty for a refused session. */
  messageId: string;
  to: string[];
}

export interface Mailbox {
  port: number;
  messages(): StoredMail[];
  /** Every refusal given so far, oldest first. */
  refusals(): RefusedMail[];
  /** Resolves with the first message (oldest first) that matches, waiting for it to arrive. */
  waitFor(match: (mail: StoredMail) => boolean, timeoutMs?: number): Promise<StoredMail>;
  /** Refuse connections for a while, as a mail server that is down (used by fault tests): setFault 421. */
  setDown(down: boolean): void;
  /** Misbehave as a broken mail server does, until setFault(undefined) (fault tests; see MailFault). */
  setFault(fault: MailFault | undefined): void;
  /** Resolves once a hang holds back `count` answers: that many senders are left waiting (fault tests). */
  whenHolding(count?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * - refuse: answer every new connection and every mail with this SMTP code (4xx: try later; 5xx: refused);
 *   with `recipients`, only mail to those addresses is refused (at RCPT TO, as for an unknown mailbox); with
 *   `atEndOfData`, each mail is read whole and then refused (as a content or policy filter does), so that the
 *   refusal names the mail (its Message-ID) in `refusals()`.
 * - hang 'unresponsive': stop answering (greeting and commands wait) until the fault ends.
 * - hang 'afterData': take each mail (it is in the mailbox, as delivered) but withhold the "250 OK" until the
 *   fault ends: the sender cannot know the mail left, as when the link drops after the server accepted it.
 */
export type MailFault =
  { refuse: number; recipients?: string[]; atEndOfData?: boolean } | { hang: 'unresponsive' | 'afterData' };

const refusal = (code: number) =>
  Object.assign(new Error(code < 500 ? 'mail server unavailable' : 'mail refused'), { responseCode: code });

export async function startMailbox(
  options: {
    port?: number;
    host?: string;
    storeFile?: string;
    /** Mail to these recipients is taken (250 OK) but neither parsed nor kept: a bench's bulk of tasks. */
    discard?: (recipient: string) => boolean;
  } = {},
): Promise<Mailbox> {
  const refused: RefusedMail[] = [];
  const stored: StoredMail[] =
    options.storeFile && existsSync(options.storeFile)
      ? JSON.parse(readFileSync(options.storeFile, 'utf8'))
      : [];
  // Each waiter looks at each new mail once (not the whole mailbox at every mail: a bench stores thousands).
  const waiters = new Set<(mail: StoredMail) => void>();
  let fault: MailFault | undefined;
  // Answers withheld by a hang, given when it ends.
  let withheld: (() => void)[] = [];
  const holdWaiters = new Set<() => void>();
  const withhold = (give: () => void) => {
    withheld.push(give);
    for (const check of [...holdWaiters]) check();
  };
  /** Answers now, or later if the server hangs; refuses if it refuses. */
  const refuse = (
    code: number,
    callback: (error?: Error) => void,
    mail?: { messageId: string; to: string[] },
  ) => {
    refused.push({
      date: new Date().toISOString(),
      code,
      messageId: mail?.messageId ?? '',
      to: mail?.to ?? [],
    });
    callback(refusal(code));
  };
  const answer = (callback: (error?: Error) => void) => {
    if (fault && 'refuse' in fault && !fault.recipients && !fault.atEndOfData)
      return refuse(fault.refuse, callback);
    if (fault && 'hang' in fault && fault.hang === 'unresponsive') return withhold(() => callback());
    callback();
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      answer(callback);
    },
    // Senders keep sessions open (pooled): a mail server that is down refuses mail on those too.
    onMailFrom(_address, _session, callback) {
      answer(callback);
    },
    onRcptTo(address, _session, callback) {
      const current = fault;
      const refuses = current && 'refuse' in current && current.recipients?.includes(address.address);
      if (refuses) refuse(current.refuse, callback, { messageId: '', to: [address.address] });
      else callback();
    },
    onData(stream, session, callback) {
      const { discard } = options;
      if (discard && session.envelope.rcptTo.every((r) => discard(r.address))) {
        stream.on('end', () => callback());
        stream.resume();
        return;
      }
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
          const current = fault;
          if (current && 'refuse' in current && current.atEndOfData)
            return refuse(current.refuse, callback, mail);
          stored.push(mail);
          if (options.storeFile) writeFileSync(options.storeFile, JSON.stringify(stored));
          for (const offer of waiters) offer(mail);
          if (fault && 'hang' in fault) withhold(() => callback());
          else callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  // A sender that dies in the middle of a mail (a worker SIGKILLed while sending) resets its connection, which
  // smtp-server reports as the server's 'error': everyday life for a mail server, not a reason to stop (npm run
  // soak's process, which holds this mailbox, died of it on 2026-12-07). The mail it was sending never arrived.
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;
  const setFault = (value: MailFault | undefined) => {
    fault = value;
    if (fault && 'hang' in fault) return;
    const release = withheld;
    withheld = [];
    for (const give of release) give();
  };

  return {
    port,
    messages: () => [...stored],
    refusals: () => [...refused],
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
    setDown: (down) => setFault(down ? { refuse: 421 } : undefined),
    setFault,
    whenHolding(count = 1) {
      return new Promise((resolve) => {
        const check = () => {
          if (withheld.length < count) return;
          holdWaiters.delete(check);
          resolve();
        };
        holdWaiters.add(check);
        check();
      });
    },
    close() {
      setFault(undefined);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The verification code and link of a code email, as a person reads them. */
export function readCodeEmail(mail: StoredMail): { code: string; link: string } {
  const link = /(https?:\/\/\S+\/validate(?:-move)?\/\d+#code=\S+)/.exec(mail.text)?.[1];
  const code = link ? (new URLSearchParams(new URL(link).hash.slice(1)).get('code') ?? undefined) : undefined;
  if (!code || !link) throw new Error(`mail "${mail.subject}" holds no code link`);
  return { code, link };
}
