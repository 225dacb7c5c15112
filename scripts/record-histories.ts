import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { acceptUpdate, refuseUpdate, taskQuery } from '../workflows/contact-change.messages';
import { adminChangesTech, fakeActivities } from '../test/helpers/fake-activities';
import { timeSkippingEnvironment } from '../test/helpers/temporal';

/**
 * Records the histories that test/workflows/replay.test.ts replays: run it (npm run record-histories) when a
 * workflow change is meant to be compatible, and keep the old files, so runs already waiting stay guarded.
 */
/** Name of this recording (npm run record-histories -- <label>): files of earlier versions are kept, never overwritten. */
const label = process.argv[2] ?? new Date().toISOString().slice(0, 10);
const input = adminChangesTech;

type Scenario = (handle: import('@temporalio/client').WorkflowHandle) => Promise<void>;

const codeOf = (handle: string) => `hash:${handle}:created`;
const scenarios: Record<string, Scenario> = {
  done: async (handle) => {
    for (const account of input.validators) {
      await handle.executeUpdate(acceptUpdate, { args: [{ account, codeHash: codeOf(account) }] });
    }
  },
  refused: async (handle) => {
    await handle.executeUpdate(acceptUpdate, { args: [{ account: 'ne33333-ovh', codeHash: 'hash:wrong' }] });
    await handle.executeUpdate(refuseUpdate, {
      args: [{ account: 'ne33333-ovh', codeHash: codeOf('ne33333-ovh') }],
    });
  },
  expired: async () => undefined,
};

async function main() {
  const env = await timeSkippingEnvironment();
  try {
    for (const [name, scenario] of Object.entries(scenarios)) {
      const { activities } = fakeActivities();
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: `record-${name}`,
        workflowsPath: require.resolve('../workflows'),
        activities,
      });
      await worker.runUntil(async () => {
        const handle = await env.client.workflow.start('contactChange', {
          taskQueue: `record-${name}`,
          workflowId: `record-${name}`,
          args: [input],
        });
        while (!(await handle.query(taskQuery)).validators.every((v) => v.lastCodeSentAt)) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await scenario(handle);
        await handle.result();
        const history = await handle.fetchHistory();
        const file = join(__dirname, '..', 'test', 'histories', `contact-change-${name}-${label}.json`);
        writeFileSync(file, JSON.stringify(history, null, 1));
        process.stdout.write(`recorded ${file} (${history.events?.length} events)\n`);
      });
    }
  } finally {
    await env.teardown();
  }
}

void main();
