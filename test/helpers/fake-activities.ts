import { createHash } from 'node:crypto';
import type {
  ApplyChangeArgs,
  ApplyResult,
  ContactChangeActivities,
  RecordTaskArgs,
} from '../../workflows/contact-change.activities';
import type { ContactChangeInput } from '../../workflows/contact-change.messages';

const DAY = 86_400_000;

/** The task most workflow tests and recorded histories use: an admin names a new tech contact. */
export const adminChangesTech: ContactChangeInput = {
  serviceId: 1,
  serviceType: 'domain',
  serviceName: 'example.com',
  askingAccount: 'ad11111-ovh',
  fromAccount: 'te22222-ovh',
  toAccount: 'ne33333-ovh',
  contactTypes: ['contactTech'],
  validators: ['ad11111-ovh', 'ne33333-ovh'],
  informed: ['te22222-ovh'],
  expiryMs: 7 * DAY,
  reminderBeforeExpiryMs: 2 * DAY,
  resendMinIntervalMs: 60_000,
};

/** The keyed hash the API would send for the code of (handle, step) mailed by the fake activities. */
export const fakeCodeHash = (handle: string, step = 'created') => `hash:${handle}:${step}`;

const digest = (codeHash: string) => createHash('sha256').update(codeHash).digest('hex');

/** Fake activities that remember what the workflow asked for. Codes are predictable: fakeCodeHash(handle, step). */
export function fakeActivities(
  options: {
    conflict?: boolean;
    /** Handles whose mail server refuses every mail (SMTP 5xx). */
    refusedAddresses?: string[];
    /** Every mail that carries no code fails as with a mail server that is down (to be retried). */
    mailServerDown?: boolean;
    apply?: ApplyResult;
    /** Runs when codes of a step are being issued, before they are: a test holds the mail "in flight" here. */
    beforeCodes?: (step: string) => Promise<void>;
    /** The mails of these steps fail this many times (a mail server down for a while) before they go. */
    failingSteps?: Record<string, number>;
    /** Runs before each recordTask lands: a test holds the write here, or fails it. */
    beforeRecord?: (args: RecordTaskArgs) => Promise<void>;
  } = {},
) {
  const calls = {
    codes: [] as { handle: string; step: string }[],
    emails: [] as { recipient: string; template: string; step: string }[],
    records: [] as RecordTaskArgs[],
    applied: 0,
    /** What each apply wrote with the change: the last acceptance. */
    appliedWith: [] as ApplyChangeArgs['accepted'][],
  };
  const refused = (handles: string[]) =>
    handles
      .filter((handle) => options.refusedAddresses?.includes(handle))
      .map((handle) => ({ handle, response: '550 5.1.1 mailbox unavailable' }));
  const activities: ContactChangeActivities = {
    async openTask({ created, validators }) {
      const conflict = options.conflict ?? false;
      if (!conflict) {
        const pending = validators.map((handle) => ({
          handle,
          status: 'pending' as const,
          wrongCodes: 0,
          locked: false,
        }));
        calls.records.push({
          taskId: 42,
          state: 'validatingByCustomers',
          validators: pending,
          event: created,
        });
      }
      return { taskId: 42, conflict };
    },
    async issueCodes({ handles, step, notices }) {
      await options.beforeCodes?.(step);
      for (const recipient of notices?.recipients ?? [])
        calls.emails.push({ recipient, template: notices!.template, step });
      for (const handle of handles) calls.codes.push({ handle, step });
      const codeDigests = Object.fromEntries(
        handles.map((handle) => [handle, digest(fakeCodeHash(handle, step))]),
      );
      return { codeDigests, undeliverable: refused(handles) };
    },
    async sendStepMails({ step, batches }) {
      if (options.mailServerDown) throw new Error('mail server unavailable (fake)');
      const failuresLeft = options.failingSteps?.[step] ?? 0;
      if (failuresLeft > 0) {
        options.failingSteps![step] = failuresLeft - 1;
        throw new Error(`mail server unavailable for the ${step} mails (fake)`);
      }
      for (const { template, recipients } of batches) {
        for (const recipient of recipients) calls.emails.push({ recipient, template, step });
      }
      return { undeliverable: refused(batches.flatMap((batch) => batch.recipients)) };
    },
    async recordTask(args) {
      await options.beforeRecord?.(args);
      calls.records.push(args);
    },
    async applyChange({ accepted, endMails }) {
      calls.applied += 1;
      calls.appliedWith.push(accepted);
      const result = options.apply ?? { applied: true };
      // The end mails given to the apply go as the mail activity's would, once; a mail server down (or a step
      // set to fail) leaves them to the mail activity, whose failures the test counts.
      const mailServerUp = !options.mailServerDown && !(options.failingSteps?.[endMails?.step ?? ''] ?? 0);
      if (!result.applied || !endMails || !mailServerUp) return result;
      for (const { template, recipients } of endMails.batches) {
        for (const recipient of recipients) calls.emails.push({ recipient, template, step: endMails.step });
      }
      return {
        applied: true,
        mailed: { undeliverable: refused(endMails.batches.flatMap((b) => b.recipients)) },
      };
    },
  };
  return { activities, calls };
}
