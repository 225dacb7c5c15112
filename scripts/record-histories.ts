import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { format } from 'prettier';
import type { contactChange } from '../workflows/contact-change';
import {
  acceptUpdate,
  cancelUpdate,
  MAX_WRONG_CODES,
  refuseUpdate,
  registeredUpdate,
  resendUpdate,
} from '../workflows/contact-change.messages';
import { adminChangesTech, fakeActivities, fakeCodeHash } from '../test/helpers/fake-activities';
import {
  ASKER as MOVE_ASKER,
  codeHash as moveCodeHash,
  fakeMove,
  moveInput,
  NEWBIE as MOVE_NEWBIE,
} from '../test/helpers/fake-move-activities';
import type { contactMove } from '../workflows/contact-move';
import { acceptMoveUpdate, registeredMoveUpdate } from '../workflows/contact-move.messages';
import { timeSkippingEnvironment } from '../test/helpers/temporal';

/**
 * Records the histories that test/workflows/replay.test.ts replays (npm run record-histories), one per path
 * through the workflow, from the fake activities of the workflow tests. See docs/decisions/workflow-versioning.md
 * for when to record (and keep) new ones. `npm run record-histories -- <scenario>...` records only those.
 */
const HISTORIES = join(__dirname, '..', 'test', 'histories');
const input = adminChangesTech;
const [asker, newContact] = input.validators;
type Env = Awaited<ReturnType<typeof timeSkippingEnvironment>>;
type Handle = WorkflowHandle<typeof contactChange>;

const accept = (handle: Handle, account: string, codeHash = fakeCodeHash(account)) =>
  handle.executeUpdate(acceptUpdate, { args: [{ account, codeHash }] });
const cancel = (handle: Handle) => handle.executeUpdate(cancelUpdate, { args: [{ by: asker }] });

/** A gate the "code typed while its mail is out" scenario holds the resend's code activity at. */
function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  return { open, reached: reachedPromise, hold: async () => (reached(), opened) };
}
const resendGate = gate();

const scenarios: Record<string, (handle: Handle, env: Env) => Promise<void>> = {
  done: async (handle) => {
    for (const account of input.validators) await accept(handle, account);
  },
  refused: async (handle) => {
    await accept(handle, newContact, 'hash:wrong');
    await handle.executeUpdate(refuseUpdate, {
      args: [{ account: newContact, codeHash: fakeCodeHash(newContact) }],
    });
  },
  expired: async (handle) => {
    await accept(handle, asker);
  },
  resend: async (handle, env) => {
    await accept(handle, asker);
    await env.sleep(61_000);
    await handle.executeUpdate(resendUpdate, { args: [{ by: asker, to: [newContact] }] });
    await accept(handle, newContact); // the superseded code
    await accept(handle, newContact, fakeCodeHash(newContact, 'resend-1'));
  },
  cancel: async (handle) => {
    await cancel(handle);
  },
  lock: async (handle) => {
    for (let attempt = 0; attempt < MAX_WRONG_CODES; attempt++)
      await accept(handle, newContact, 'hash:guess');
    await cancel(handle);
  },
  codeInFlight: async (handle, env) => {
    await env.sleep(61_000);
    await handle.executeUpdate(resendUpdate, { args: [{ by: newContact }] });
    await resendGate.reached;
    const early = await handle.startUpdate(acceptUpdate, {
      args: [{ account: newContact, codeHash: fakeCodeHash(newContact, 'resend-1') }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    resendGate.open();
    await early.result();
    await accept(handle, asker);
  },
};

async function record(name: string, env: Env) {
  const { activities } = fakeActivities({
    beforeCodes: async (step) => {
      if (name === 'codeInFlight' && step !== 'created') await resendGate.hold();
    },
  });
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
    await scenarios[name](handle, env);
    await handle.result();
    const history = await handle.fetchHistory();
    const file = join(HISTORIES, `contact-change-${name}.json`);
    // Formatted as the repository's prettier check wants it, so a fresh recording needs no extra step.
    writeFileSync(file, await format(JSON.stringify(history), { parser: 'json', filepath: file }));
    process.stdout.write(`recorded ${file} (${history.events?.length} events)\n`);
  });
}

/** The move's path through its workflow: one validator leaves a service out, the other accepts, the rest applied. */
async function recordMove(env: Env) {
  const { activities } = fakeMove();
  const taskQueue = 'record-move-done';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities,
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof contactMove>('contactMove', {
      taskQueue,
      workflowId: 'record-move-done',
      args: [moveInput],
    });
    await handle.executeUpdate(registeredMoveUpdate);
    const decide = (account: string, exclude?: string[]) =>
      handle.executeUpdate(acceptMoveUpdate, {
        args: [{ account, codeHash: moveCodeHash(account), ...(exclude ? { exclude } : {}) }],
      });
    await decide(MOVE_NEWBIE, ['b.example']);
    await decide(MOVE_ASKER);
    await handle.result();
    const history = await handle.fetchHistory();
    const file = join(HISTORIES, 'contact-move-done.json');
    writeFileSync(file, await format(JSON.stringify(history), { parser: 'json', filepath: file }));
    process.stdout.write(`recorded ${file} (${history.events?.length} events)\n`);
  });
}

async function main() {
  const chosen = process.argv.slice(2);
  if (chosen.includes('move-done')) {
    const env = await timeSkippingEnvironment();
    try {
      await recordMove(env);
    } finally {
      await env.teardown();
    }
    chosen.splice(chosen.indexOf('move-done'), 1);
    if (chosen.length === 0) return;
  }
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
