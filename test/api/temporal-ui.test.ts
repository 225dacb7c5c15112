import type { WorkflowExecutionInfo } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, type TaskState } from '../../workflows/contact-change.messages';
import { createAccounts, createService } from '../helpers/fixtures';
import { askTechChange, codeFor, login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

/**
 * What an operator sees of a task in the Temporal UI (and `temporal workflow list/describe`): on the dev server with
 * the app's search attributes registered, as the quick start and compose set it up.
 */
let stack: Stack;
const ADMIN = 'ad1-ovh';
const TECH = 'te2-ovh';
const NEWBIE = 'ne3-ovh';
/** Long enough for the other stories to end well before it, short enough to watch one task expire. */
const TASK_EXPIRY_SECONDS = 30;
let expiringTask: number;

beforeAll(async () => {
  stack = await startStack({
    temporal: 'dev-server',
    env: { TASK_EXPIRY: `${TASK_EXPIRY_SECONDS}s`, REMINDER_BEFORE_EXPIRY: '10s' },
  });
  await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: TECH }, { handle: NEWBIE }]);
  for (const name of ['done.example', 'refused.example', 'aborted.example', 'expired.example']) {
    await createService(stack.database.db, { name, admin: ADMIN, tech: TECH, billing: TECH });
  }
  // Asked first, so that its clock runs while the other stories play.
  expiringTask = await askTechChange(await login(stack, ADMIN), 'expired.example', NEWBIE);
});
afterAll(async () => {
  await stack?.teardown();
});

async function runOf(taskId: number) {
  const task = await stack.database.db.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
  return stack.env.client.workflow.getHandle(task.workflowId, task.runId ?? undefined);
}

/** The run's current details, as the Temporal UI reads them (the SDK's built-in metadata query). */
async function currentDetails(taskId: number): Promise<string> {
  const metadata = await (
    await runOf(taskId)
  ).query<{ currentDetails: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails;
}

/** The one run the Temporal UI lists for `ContactTaskId = id`, once visibility shows it in this state. */
async function listedInState(
  taskId: number,
  state: TaskState,
  closed = false,
): Promise<WorkflowExecutionInfo> {
  return eventually(`task ${taskId} listed as ${state}`, async () => {
    const runs: WorkflowExecutionInfo[] = [];
    for await (const run of stack.env.client.workflow.list({
      // `closed`: the final state is published before the end mails, which the run still sends after it.
      query: `ContactTaskId = ${taskId} AND ContactTaskState = '${state}'${closed ? " AND ExecutionStatus != 'Running'" : ''}`,
    })) {
      runs.push(run);
    }
    expect(runs).toHaveLength(1);
    return runs[0];
  });
}

async function expectEndedAs(taskId: number, state: TaskState, service: string) {
  await stack.taskEnded(taskId);
  const listed = await listedInState(taskId, state, true);
  expect(listed.status.name).toBe('COMPLETED');
  expect(listed.typedSearchAttributes.get(SEARCH_ATTRIBUTES.taskId)).toBe(taskId);
  expect(listed.typedSearchAttributes.get(SEARCH_ATTRIBUTES.serviceName)).toBe(service);
  expect(listed.typedSearchAttributes.get(SEARCH_ATTRIBUTES.handles)?.sort()).toEqual([ADMIN, NEWBIE, TECH]);
  const described = await (await runOf(taskId)).describe();
  expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe(state);
  expect(await currentDetails(taskId)).toMatch(new RegExp(`^${state}\\b`));
}

test('a run says in words whom it waits for, and ends listed as done', async () => {
  const admin = await login(stack, ADMIN);
  const newbie = await login(stack, NEWBIE);
  const id = await askTechChange(admin, 'done.example', NEWBIE);
  const [adminCode, newbieCode] = await Promise.all([codeFor(stack, ADMIN, id), codeFor(stack, NEWBIE, id)]);

  const run = await runOf(id);
  // The run's first workflow task publishes the task id once the opening mails (local activities) are out.
  const described = await eventually(`task ${id} to publish its id`, async () => {
    const description = await run.describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.taskId)).toBe(id);
    return description;
  });
  expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('validatingByCustomers');
  expect(await described.staticSummary()).toBe(
    `tech contact of done.example: ${TECH} → ${NEWBIE}, asked by ${ADMIN}`,
  );
  expect(await described.staticDetails()).toBe(`Validated by ${ADMIN} and ${NEWBIE}; told: ${TECH}.`);
  expect(await currentDetails(id)).toMatch(
    new RegExp(`^Waiting for ${ADMIN} and ${NEWBIE} to accept, until `),
  );
  await listedInState(id, 'validatingByCustomers');

  await admin.post(`/1.0/me/task/contactChange/${id}/accept`, { token: adminCode }).expect(200);
  expect(await currentDetails(id)).toMatch(
    new RegExp(`^Waiting for ${NEWBIE} to accept, until .*\\nAccepted: ${ADMIN}\\.$`),
  );
  await newbie.post(`/1.0/me/task/contactChange/${id}/accept`, { token: newbieCode }).expect(200);
  await expectEndedAs(id, 'done', 'done.example');
});

test('a refused task ends listed as refused', async () => {
  const id = await askTechChange(await login(stack, ADMIN), 'refused.example', NEWBIE);
  const code = await codeFor(stack, NEWBIE, id);
  await (
    await login(stack, NEWBIE)
  )
    .post(`/1.0/me/task/contactChange/${id}/refuse`, { token: code })
    .expect(200);
  await expectEndedAs(id, 'refused', 'refused.example');
});

test('a cancelled task ends listed as aborted', async () => {
  const admin = await login(stack, ADMIN);
  const id = await askTechChange(admin, 'aborted.example', NEWBIE);
  await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
  await expectEndedAs(id, 'aborted', 'aborted.example');
});

test('a task nobody answers ends listed as expired', async () => {
  await stack.taskEnded(expiringTask, (TASK_EXPIRY_SECONDS + 30) * 1000);
  await expectEndedAs(expiringTask, 'expired', 'expired.example');
});
