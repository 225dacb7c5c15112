import type {
  ApplyResult,
  ContactChangeActivities,
  RecordTaskArgs,
} from '../../workflows/contact-change.activities';

/** Fake activities that remember what the workflow asked for. Codes are predictable: hash(handle, step). */
export function fakeActivities(
  options: { conflict?: boolean; apply?: ApplyResult; codesReleased?: Promise<void> } = {},
) {
  const calls = {
    codes: [] as { handle: string; step: string }[],
    emails: [] as { recipient: string; template: string; step: string }[],
    records: [] as RecordTaskArgs[],
    applied: 0,
  };
  const activities: ContactChangeActivities = {
    async openTask() {
      return { taskId: 42, conflict: options.conflict ?? false };
    },
    async issueCode({ handle, step }) {
      calls.codes.push({ handle, step });
      return { codeHash: `hash:${handle}:${step}` };
    },
    async issueCodes({ handles, step }) {
      await options.codesReleased;
      return Object.fromEntries(
        handles.map((handle) => {
          calls.codes.push({ handle, step });
          return [handle, `hash:${handle}:${step}`];
        }),
      );
    },
    async sendTaskEmail({ recipient, template, step }) {
      calls.emails.push({ recipient, template, step });
    },
    async sendTaskEmails({ recipients, template, step }) {
      for (const recipient of recipients) calls.emails.push({ recipient, template, step });
    },
    async recordTask(args) {
      calls.records.push(args);
    },
    async applyChange() {
      calls.applied += 1;
      return options.apply ?? { applied: true };
    },
  };
  return { activities, calls };
}
