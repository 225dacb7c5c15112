import type { IssuedCodes } from '../../workflows/contact-change.activities';
import { codeInFlight, type CodeHolder, runMails } from '../../workflows/run-mails';

/** A send whose activity reports back when the test says so. */
function pendingSend() {
  let settle!: { resolve: (codes: IssuedCodes) => void; reject: (error: unknown) => void };
  const promise = new Promise<IssuedCodes>((resolve, reject) => (settle = { resolve, reject }));
  return { send: () => promise, ...settle };
}

const holder = (): CodeHolder => ({
  handle: 'val-1',
  supersededDigests: [],
  codesOut: 0,
  wrongCodes: 0,
  locked: false,
});

const mails = () =>
  runMails({
    askingAccount: 'asker-1',
    send: () => Promise.resolve({ undeliverable: [] }),
    attentionTemplate: 'attention',
    awaitingDecisions: () => true,
    recordAttention: () => Promise.resolve(),
    outcomeRecorded: () => Promise.resolve(),
  });

test('a code is in flight while any of its mails is out: the opening and a resend overlapping', async () => {
  const { issueCodes } = mails();
  const validator = holder();
  const opening = pendingSend();
  const resend = pendingSend();
  const openingDone = issueCodes([validator], [], opening.send);
  const resendDone = issueCodes([validator], [], resend.send);
  expect(codeInFlight(validator)).toBe(true);

  // The resend reports back first: the opening's mail is still out, and its code may be the one the person reads.
  resend.resolve({ undeliverable: [], codeDigests: { 'val-1': 'second' } });
  await resendDone;
  expect(codeInFlight(validator)).toBe(true);
  expect(validator.codeDigest).toBe('second');

  opening.resolve({ undeliverable: [], codeDigests: { 'val-1': 'first' } });
  await openingDone;
  expect(codeInFlight(validator)).toBe(false);
  expect(validator.codeDigest).toBe('second');
  expect(validator.supersededDigests).toEqual(['first']);
});

test('a code mail that fails is no longer in flight', async () => {
  const { issueCodes } = mails();
  const validator = holder();
  const opening = pendingSend();
  const done = issueCodes([validator], [], opening.send);
  expect(codeInFlight(validator)).toBe(true);
  opening.reject(new Error('the database is gone'));
  await expect(done).rejects.toThrow('the database is gone');
  expect(codeInFlight(validator)).toBe(false);
  expect(validator.codesOut).toBe(0);
});
