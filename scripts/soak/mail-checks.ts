import type { RefusedMail, StoredMail } from '../../lib/mailbox';
import { describeFault, type InjectedFault } from './faults';

/**
 * What the tasks' and the moves' mail checks share: mails are grouped by identity (task or move, step, person),
 * read from the Message-ID, which the app keeps stable across retries.
 */
export type MailKey = string;

/** The mails the mail server refused for good (5xx at the end of their data: the log names them), by identity. */
export function refusedForGood(
  refusals: RefusedMail[],
  keyOf: (mail: Pick<StoredMail, 'messageId'>) => MailKey | undefined,
): Map<MailKey, RefusedMail> {
  const refused = new Map<MailKey, RefusedMail>();
  for (const refusal of refusals) {
    const key = refusal.code >= 500 ? keyOf(refusal) : undefined;
    if (key) refused.set(key, refusal);
  }
  return refused;
}

/**
 * A mail one (task or move, step, person) calls for: delivered; or refused for good by the mail server while the
 * task said so (a needsAttention event naming that person), which is what the customer is owed for a mail that
 * cannot go (docs/soak.md, "A mail refused for good"). Returns whether it was refused and said, or the violation.
 */
export function mailOutcome(
  key: MailKey,
  mails: { delivered: Map<MailKey, StoredMail[]>; refused: Map<MailKey, RefusedMail> },
  saidFor: (handle: string) => boolean,
  handle: string,
  what: string,
): 'delivered' | 'refusedAndSaid' | string {
  if (mails.delivered.has(key)) return 'delivered';
  const refusal = mails.refused.get(key);
  if (!refusal) return `no ${what} for ${handle} (neither delivered nor refused)`;
  if (saidFor(handle)) return 'refusedAndSaid';
  return `the ${what} for ${handle} was refused (${refusal.code}) and it never said so (needs attention)`;
}

/** The handles a needsAttention event of mailRejected named, among these audit events. */
export function namedAsRefused(events: { action: string; detail: unknown }[]): Set<string> {
  return new Set(
    events
      .filter((event) => event.action === 'needsAttention')
      .filter((event) => (event.detail as { reason?: string }).reason === 'mailRejected')
      .flatMap((event) => (event.detail as { handles?: string[] }).handles ?? []),
  );
}

/**
 * Identities delivered more than once. The same mail again (same Message-ID, same subject and text, so the same
 * code) is what at-least-once mail gives when the sender could not know the first went: listed with the fault
 * under way when the first copy arrived (or that struck within 30 s after it). Different mails for one identity
 * are returned apart: a violation.
 */
export function copiesOf(
  delivered: Map<MailKey, StoredMail[]>,
  faults: InjectedFault[],
  name: (key: MailKey) => string,
): { sameAgain: string[]; different: string[] } {
  const sameAgain: string[] = [];
  const different: string[] = [];
  for (const [key, mails] of delivered) {
    if (mails.length < 2) continue;
    if (new Set(mails.map((mail) => `${mail.subject}\n${mail.text}`)).size > 1) {
      different.push(`${name(key)}: ${mails.length} mails with different contents`);
      continue;
    }
    const first = Date.parse(mails[0].date);
    const cause = faults.find(
      (fault) => fault.kind !== 'smtpRefuse' && fault.startedAt - 30_000 <= first && first <= fault.endedAt,
    );
    sameAgain.push(
      `${name(key)}: ${mails.length} copies, same Message-ID and content (first at ${mails[0].date.slice(11, 23)}; ${cause ? describeFault(cause) : 'no fault explains it'})`,
    );
  }
  return { sameAgain, different };
}

/**
 * A flag's write and the run's look at whether it still waits for decisions are apart by the write itself: a
 * decision taken meanwhile may have ended the wait first. Past this, a flag recorded before the end of the wait was
 * seen while the run waited (a write retried through a fault takes seconds, not this).
 */
const ATTENTION_SLACK_MS = 30_000;

/**
 * The asker's one mail about "needs attention": the app mails it once, while the request waits for decisions, when
 * a mail did not reach someone other than the asker (never about the asker's own address). Held to that from the
 * outside: no such mail without such a problem; and such a problem recorded well before the request stopped
 * waiting means the mail went (delivered, or refused by the mail server: the app does not flag its own warning).
 * `flags` are the request's needsAttention events; `stoppedWaitingAt` when it stopped waiting for decisions.
 */
export function askerAttentionOutcome(args: {
  asker: string;
  mailed: boolean;
  flags: { handles: string[]; at: number }[];
  stoppedWaitingAt?: number;
}): string | undefined {
  const causes = args.flags.filter((flag) => !flag.handles.includes(args.asker));
  if (args.mailed && causes.length === 0)
    return `${args.asker} was mailed "needs attention" though no mail to anyone else failed`;
  const { stoppedWaitingAt } = args;
  const untold = causes.find(
    (flag) => stoppedWaitingAt !== undefined && flag.at + ATTENTION_SLACK_MS < stoppedWaitingAt,
  );
  if (!args.mailed && untold)
    return `${args.asker} was never told that a mail did not reach ${untold.handles.join(', ')}`;
  return undefined;
}

/** The needsAttention events of a request, as askerAttentionOutcome reads them. */
export function attentionFlags(events: { action: string; detail: unknown; createdAt: Date }[]) {
  return events
    .filter((event) => event.action === 'needsAttention')
    .map((event) => ({
      handles: (event.detail as { handles?: string[] }).handles ?? [],
      at: event.createdAt.getTime(),
    }));
}
