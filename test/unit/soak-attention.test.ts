import { stoppedWaiting } from '../../scripts/soak/checker';
import { askerAttentionOutcome } from '../../scripts/soak/mail-checks';

/** The soak's checker on the asker's one mail about "needs attention" (a checker that cannot fail proves nothing). */

const ASKER = 'ad1-ovh';
const flagged = (handles: string[], at: number) => ({ handles, at });

test('no mail about a problem that named nobody but the asker, or none at all', () => {
  expect(askerAttentionOutcome({ asker: ASKER, mailed: true, flags: [] })).toMatch(
    /mailed "needs attention" though no mail to anyone else failed/,
  );
  expect(askerAttentionOutcome({ asker: ASKER, mailed: true, flags: [flagged([ASKER], 0)] })).toBeDefined();
  expect(
    askerAttentionOutcome({ asker: ASKER, mailed: false, flags: [flagged([ASKER], 0)] }),
  ).toBeUndefined();
});

test('a problem named well before the wait ended calls for the mail; one near its end may not', () => {
  const flags = [flagged(['ne1-ovh'], 10_000)];
  expect(askerAttentionOutcome({ asker: ASKER, mailed: false, flags, stoppedWaitingAt: 60_000 })).toBe(
    `${ASKER} was never told that a mail did not reach ne1-ovh`,
  );
  expect(
    askerAttentionOutcome({ asker: ASKER, mailed: true, flags, stoppedWaitingAt: 60_000 }),
  ).toBeUndefined();
  // Recorded 5 s before a decision ended the wait: the decision may have come first.
  expect(
    askerAttentionOutcome({ asker: ASKER, mailed: false, flags, stoppedWaitingAt: 15_000 }),
  ).toBeUndefined();
  // The end mails refused after the end: nobody to tell.
  expect(
    askerAttentionOutcome({ asker: ASKER, mailed: false, flags, stoppedWaitingAt: 5_000 }),
  ).toBeUndefined();
});

test('a task stops waiting at a refusal, a cancel, the expiry or its last acceptance', () => {
  const at = (s: number) => new Date(s * 1000);
  const events = (...actions: string[]) => actions.map((action, i) => ({ action, createdAt: at(i) }));
  expect(
    stoppedWaiting(events('created', 'wrongCode', 'accepted', 'needsAttention', 'accepted', 'applied'), 2),
  ).toBe(4000);
  expect(stoppedWaiting(events('created', 'accepted', 'needsAttention', 'expired'), 2)).toBe(3000);
  expect(stoppedWaiting(events('created', 'cancelled'), 2)).toBe(1000);
  expect(stoppedWaiting(events('created', 'accepted'), 2)).toBeUndefined();
});
