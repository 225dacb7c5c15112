import { createHash } from 'node:crypto';
import type { ContactMoveActivities, RecordMoveArgs } from '../../workflows/contact-move.activities';
import type { ContactMoveInput, MoveCountsView } from '../../workflows/contact-move.messages';

/** The move most workflow tests and the recorded move history use: the admin moves the tech role of 5 services. */
export const ASKER = 'ad11111-ovh';
export const NEWBIE = 'ne33333-ovh';
export const TECH = 'te22222-ovh';
const DAY = 86_400_000;
export const ITEMS = 5;

export const moveInput: ContactMoveInput = {
  moveId: 7,
  askingAccount: ASKER,
  expiryMs: 7 * DAY,
  reminderBeforeExpiryMs: 2 * DAY,
  resendMinIntervalMs: 60_000,
  chunkSize: 2,
};
export const codeHash = (handle: string, step = 'created') => `hash:${handle}:${step}`;
const digest = (hash: string) => createHash('sha256').update(hash).digest('hex');

/**
 * The move's activities as a fake database of ITEMS items (the apply takes 2 per call). `refusedAddresses`: the
 * mail server refuses those people's mails for good (550), as it would a wrong address.
 */
export function fakeMove(
  options: {
    failingApplies?: number;
    refusedAddresses?: string[];
    /** The first attempts of openMove that are lost (their worker gone: no answer, no heartbeat). */
    lostOpenings?: number;
    /** The code mails of this step fail (the mail server down, retried) until the test lets them (releaseCodes). */
    heldCodes?: string;
  } = {},
) {
  const refused = new Set(options.refusedAddresses ?? []);
  const refusal = (handle: string) => ({ handle, response: '550 5.1.1 no such mailbox (fake)' });
  const counts: MoveCountsView = { total: ITEMS, applied: 0, skipped: 0, refused: 0, remaining: ITEMS };
  const calls = {
    records: [] as RecordMoveArgs[],
    codes: [] as { handle: string; step: string }[],
    mails: [] as { recipient: string; template: string; step: string }[],
    applyCalls: 0,
    openCalls: 0,
  };
  // Lost attempts answer only once the test lets them go (lostOpeningsEnd), too late for anyone to listen.
  let releaseLost = () => {};
  const lost = new Promise<void>((resolve) => (releaseLost = resolve));
  let codesHeld = options.heldCodes !== undefined;
  const releaseCodes = () => {
    codesHeld = false;
  };
  const activities: ContactMoveActivities = {
    async openMove() {
      calls.openCalls += 1;
      if (calls.openCalls <= (options.lostOpenings ?? 0)) await lost;
      return {
        validators: [
          { handle: ASKER, items: ITEMS },
          { handle: NEWBIE, items: ITEMS },
        ],
        informed: [TECH],
        counts: { ...counts },
      };
    },
    async issueMoveCodes({ handles, step, notices }) {
      if (codesHeld && step === options.heldCodes) throw new Error('451 mail server unavailable (fake)');
      for (const handle of handles.filter((h) => !refused.has(h))) calls.codes.push({ handle, step });
      const noticed = notices?.recipients ?? [];
      for (const recipient of noticed.filter((h) => !refused.has(h)))
        calls.mails.push({ recipient, template: notices!.template, step });
      return {
        codeDigests: Object.fromEntries(handles.map((h) => [h, digest(codeHash(h, step))])),
        undeliverable: [...handles, ...noticed].filter((h) => refused.has(h)).map(refusal),
      };
    },
    async sendMoveMails({ step, batches }) {
      const undeliverable = [];
      for (const { template, recipients } of batches)
        for (const recipient of recipients) {
          if (refused.has(recipient)) undeliverable.push(refusal(recipient));
          else calls.mails.push({ recipient, template, step });
        }
      return { undeliverable };
    },
    async recordMove(args) {
      calls.records.push(args);
      const effect = args.items;
      if (effect?.kind === 'exclude') {
        counts.refused += effect.serviceNames.length;
        counts.remaining -= effect.serviceNames.length;
      } else if (effect?.kind === 'end') {
        counts.refused += counts.remaining;
        counts.remaining = 0;
      }
      return { ...counts };
    },
    async applyMoveChunks() {
      calls.applyCalls += 1;
      // As a worker killed mid-chunk: the activity fails, and its retry goes on from the items.
      if (calls.applyCalls <= (options.failingApplies ?? 0)) throw new Error('worker lost mid-chunk');
      const now = Math.min(2, counts.remaining);
      counts.applied += now;
      counts.remaining -= now;
      return { counts: { ...counts }, finished: counts.remaining === 0 };
    },
  };
  return { activities, calls, counts, refused, lostOpeningsEnd: releaseLost, releaseCodes };
}
