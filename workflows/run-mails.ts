import { ActivityFailure, condition } from '@temporalio/workflow';
import type { AuditEntry, IssuedCodes, MailOutcome } from './contact-change.activities';
import type { NeedsAttention } from './contact-change.messages';

/**
 * What a single task's run and a move's run share once their decisions are in: the audit entries they record,
 * the mails sent beside the main line, "needs attention" when a mail cannot be delivered (and the one mail the
 * asker gets about it), and the end mails that wait for everything still out. One definition for both runs.
 */

/** Audit entries of one run, each with a dedupe key made of its position and its action. */
export function auditTrail(workflowId: string, runId: string) {
  let count = 0;
  return (
    actor: string,
    action: string,
    detail?: Record<string, unknown>,
    sourceIp?: string,
  ): AuditEntry => ({
    // Position and action: an event the run did not take is never mistaken for one it did.
    dedupeKey: `${workflowId}/${runId}/${++count}/${action}`,
    actor,
    action,
    detail,
    sourceIp,
  });
}

/**
 * "Needs attention" once these people got a fresh code: whom it reached is no longer named, and once nobody is,
 * the run is cleared. So a resend to each person in turn (as the portal offers it) clears it as one to everyone at
 * once does; before, only a resend reaching every person named cleared it, and a task whose two validators were
 * each sent their code apart stayed flagged. Someone a code cannot reach (only told, their notice refused) stays
 * named: their mail did not go. Undefined when nothing changes.
 */
export function attentionReached(
  current: NeedsAttention | undefined,
  delivered: string[],
): { now: NeedsAttention | undefined } | undefined {
  if (!current) return undefined;
  const still = current.handles.filter((handle) => !delivered.includes(handle));
  if (still.length === current.handles.length) return undefined;
  return { now: still.length > 0 ? { ...current, handles: still } : undefined };
}

/** One template to some recipients: a step's mails are one or more of these. */
export interface TemplateBatch<Template extends string> {
  template: Template;
  recipients: string[];
}

export interface RunMailsOptions<Template extends string> {
  askingAccount: string;
  /** Sends a step's batches (one mail activity); the addresses refused for good come back, not thrown. */
  send(step: string, batches: TemplateBatch<Template>[]): Promise<MailOutcome>;
  /** The template telling the asker that a mail did not reach someone (and what to do). */
  attentionTemplate: Template;
  /** Whether the run waits for decisions: the asker is told of a mail problem only then. */
  awaitingDecisions(): boolean;
  /**
   * Records a change of the run's "needs attention" (attention() has it already): `needsAttention` when a mail
   * failed (the detail says how), `mailDelivered` when a fresh code reached someone it named.
   */
  recordAttention(action: 'needsAttention' | 'mailDelivered', detail: Record<string, unknown>): Promise<void>;
  /** What the end mails wait for besides the mails still out: the outcome's own write (a cancel, a refusal). */
  outcomeRecorded(): Promise<unknown>;
}

/** A validator's code as a run keeps it (a task's or a move's validator). */
export interface CodeHolder {
  handle: string;
  /** SHA-256 of the keyed hash of the current code: what an Update's hash must hash to. */
  codeDigest?: string;
  /** Digests of codes that a resend replaced: typing one is told apart from a wrong guess. */
  supersededDigests: string[];
  /**
   * How many of its code mails are out (the opening's and a resend's may be out at once): while any is, its code
   * may already be in the person's mailbox while the activity has not yet reported back (codeInFlight).
   */
  codesOut: number;
  /** The issue (run-wide number) of its current code: a mail issued earlier that reports back later is superseded. */
  codeIssue?: number;
  lastCodeSentAt?: string;
  wrongCodes: number;
  locked: boolean;
}

/** A code mail of this holder is out: the person may already have read a code the run does not know yet. */
export function codeInFlight(holder: CodeHolder): boolean {
  return holder.codesOut > 0;
}

export function runMails<Template extends string>(options: RunMailsOptions<Template>) {
  let mailsOut = 0;
  let failure: unknown;
  let needsAttention: NeedsAttention | undefined;
  /** The asker had the "needs attention" mail (once per run). */
  let askerTold = false;
  /** Code issues of this run, numbered in the order they were started. */
  let codeIssues = 0;

  /**
   * Runs mail work beside the main line, so that a mail server outage never delays the expiry; a failure that is
   * not a mail's (a database write's, past its retries) ends the run (see failure).
   */
  function inBackground(work: () => Promise<void>) {
    mailsOut += 1;
    work()
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => (mailsOut -= 1));
  }

  /**
   * Runs one mail activity; what cannot be delivered (an address refused, or no mail server reached after every
   * retry) puts the run in "needs attention" instead of failing it.
   */
  async function mailing<T extends MailOutcome>(recipients: string[], send: () => Promise<T>) {
    let outcome: T;
    try {
      outcome = await send();
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      await flag({ reason: 'mailUndelivered', handles: recipients }, { error: error.cause?.message });
      return undefined;
    }
    if (outcome.undeliverable.length > 0) {
      const handles = outcome.undeliverable.map((u) => u.handle);
      await flag({ reason: 'mailRejected', handles }, { responses: outcome.undeliverable });
    }
    return outcome;
  }

  async function flag(problem: Omit<NeedsAttention, 'since'>, detail: Record<string, unknown>) {
    needsAttention = { ...problem, since: new Date().toISOString() };
    await options.recordAttention('needsAttention', { ...problem, ...detail });
    tellAskerOfAttention(problem.handles);
  }

  /**
   * Mails fresh codes to the targets, with the notices that go with them (`send`: one activity). Each target's code
   * is in flight meanwhile; then its new digest replaces the old one, kept as superseded, and its wrong tries start
   * over. Codes count in the order they were issued, not the order their activities report back: an opening's
   * mail that reports back after a resend's (a loaded worker) is superseded by it, never made current again
   * (test/workflows/contact-move.test.ts, the resend). Whom a code reached is no longer named by "needs attention"
   * (attentionReached).
   */
  async function issueCodes(
    targets: CodeHolder[],
    notified: string[],
    send: () => Promise<IssuedCodes>,
  ): Promise<void> {
    if (targets.length === 0) return;
    const sentAt = new Date().toISOString();
    const issue = ++codeIssues;
    for (const holder of targets) {
      holder.codesOut += 1;
      holder.lastCodeSentAt = sentAt;
    }
    try {
      const issued = await mailing(targets.map((v) => v.handle).concat(notified), send);
      if (!issued) return;
      for (const holder of targets) {
        const digest = issued.codeDigests[holder.handle];
        if ((holder.codeIssue ?? 0) > issue) {
          if (digest) holder.supersededDigests.push(digest);
          continue;
        }
        if (holder.codeDigest) holder.supersededDigests.push(holder.codeDigest);
        holder.codeDigest = digest;
        holder.codeIssue = issue;
        holder.wrongCodes = 0;
        holder.locked = false;
      }
      const delivered = targets
        .map((v) => v.handle)
        .filter((h) => !issued.undeliverable.some((u) => u.handle === h));
      const reached = attentionReached(needsAttention, delivered);
      if (reached) {
        needsAttention = reached.now;
        await options.recordAttention('mailDelivered', { validators: delivered });
      }
    } finally {
      for (const holder of targets) {
        holder.codesOut -= 1;
      }
    }
  }

  /**
   * The asker is told once per run, in their language, that a mail did not reach someone (whom, and what to do):
   * only while the request waits for decisions, and not when the failing address is the asker's own. The mail's
   * own failure is left at that: it must not flag the run again, nor end it.
   */
  function tellAskerOfAttention(handles: string[]) {
    if (askerTold || !options.awaitingDecisions() || handles.includes(options.askingAccount)) return;
    askerTold = true;
    inBackground(async () => {
      const batches = [{ template: options.attentionTemplate, recipients: [options.askingAccount] }];
      await options.send('attention', batches).catch((error: unknown) => {
        if (!(error instanceof ActivityFailure)) throw error;
      });
    });
  }

  async function sendMails(step: string, batches: TemplateBatch<Template>[]) {
    const nonEmpty = batches.filter((batch) => batch.recipients.length > 0);
    if (nonEmpty.length === 0) return;
    await mailing(
      nonEmpty.flatMap((batch) => batch.recipients),
      () => options.send(step, nonEmpty),
    );
  }

  /**
   * The end mails wait for the outcome's write and for the mails still out (a reminder whose send a fault delayed
   * past the expiry, say), each bounded by its own retries: everyone gets the run's mails in the order of its
   * steps, none is dropped with the run (found by npm run soak: an expired request whose reminder was still being
   * retried had none), and they tell the outcome the read model holds.
   */
  async function endMails(step: string, batches: TemplateBatch<Template>[]) {
    await options.outcomeRecorded();
    await condition(() => mailsOut === 0);
    await sendMails(step, batches);
  }

  /**
   * The end mails that the outcome's own activity sent (the apply's), which had them only if no mail was out
   * (idle): what did not reach someone is flagged as endMails would have flagged it.
   */
  async function endMailsSent(batches: TemplateBatch<Template>[], outcome: MailOutcome) {
    await mailing(
      batches.flatMap((batch) => batch.recipients),
      async () => outcome,
    );
  }

  /** The end mail to everyone concerned (each once). */
  async function tellEveryone(template: Template, people: string[]) {
    await endMails('end', [{ template, recipients: [...new Set(people)] }]);
  }

  return {
    inBackground,
    issueCodes,
    sendMails,
    endMails,
    endMailsSent,
    tellEveryone,
    /** No mail activity is out: end mails sent now come after every other mail of the run. */
    idle: () => mailsOut === 0,
    /** The first failure beside the main line that ends the run, if any. */
    failure: () => failure,
    /** Whom mails did not reach, while anyone is named. */
    attention: () => needsAttention,
  };
}
