import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { format } from 'prettier';
import type { contactChange } from '../workflows/contact-change';
import {
  acceptUpdate,
  cancelSignal,
  MAX_WRONG_CODES,
  refuseUpdate,
  registeredUpdate,
} from '../workflows/contact-change.messages';
import { adminChangesTech, fakeActivities } from '../test/helpers/fake-activities';
import { timeSkippingEnvironment } from '../test/helpers/temporal';

/**
 * Records the histories that test/workflows/replay.test.ts replays (npm run record-histories), one per path
 * through the workflow, from the fake activities of the workflow tests. See docs/decisions/workflow-versioning.md
 * for when to record (and keep) new ones. `npm run record-histories -- <scenario>...` records only those.
 */
const HISTORIES = join(__dirname, '..', 'test', 'histories');
const input = adminChangesTech;
const [asker, newContact] = input.validators;
const codeOf = (account: string, step = 'created') => `hash:${account}:${step}`;

type Handle = WorkflowHandle<typeof contactChange>;
const accept = (handle: Handle, account: string, codeHash = codeOf(account)) =>
  handle.executeUpdate(acceptUpdate, { args: [{ account, codeHash }] });

const scenarios: Record<string, (handle: Handle) => Promise<void>> = {
  done: async (handle) => {
    for (const account of input.validators) await accept(handle, account);
  },
  refused: async (handle) => {
    await accept(handle, newContact, 'hash:wrong');
    await handle.executeUpdate(refuseUpdate, {
      args: [{ account: newContact, codeHash: codeOf(newContact) }],
    });
  },
  expired: async (handle) => {
    await accept(handle, asker);
  },
  cancel: async (handle) => {
    await handle.signal(cancelSignal, { by: asker });
  },
  lock: async (handle) => {
    for (let attempt = 0; attempt < MAX_WRONG_CODES; attempt++)
      await accept(handle, newContact, 'hash:guess');
    await handle.signal(cancelSignal, { by: asker });
  },
};

async function record(name: string, env: Awaited<ReturnType<typeof timeSkippingEnvironment>>) {
  const { activities } = fakeActivities();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: `record-${name}`,
    workflowsPath: require.resolve('../workflows'),
    activities,
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof contactChange>('contactChange', {
      taskQueue: `record-${name}`,
      workflowId: `record-${name}`,
      args: [input],
    });
    await handle.executeUpdate(registeredUpdate);
    await scenarios[name](handle);
    await handle.result();
    const history = await handle.fetchHistory();
    const file = join(HISTORIES, `contact-change-${name}.json`);
    // Formatted as the repository's prettier check wants it, so a fresh recording needs no extra step.
    writeFileSync(file, await format(JSON.stringify(history), { parser: 'json', filepath: file }));
    process.stdout.write(`recorded ${file} (${history.events?.length} events)\n`);
  });
}

async function main() {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((name) => !(name in scenarios));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}`);
  mkdirSync(HISTORIES, { recursive: true });
  const env = await timeSkippingEnvironment();
  try {
    for (const name of chosen.length > 0 ? chosen : Object.keys(scenarios)) await record(name, env);
  } finally {
    await env.teardown();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
