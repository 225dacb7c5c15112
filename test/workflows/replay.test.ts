import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { quietTemporalLogs } from '../helpers/temporal';

// Histories recorded from the workflow, one per path through it (npm run record-histories). A change that would
// break runs already waiting for days fails here: docs/decisions/workflow-versioning.md says what to do then.
const dir = join(__dirname, '..', 'histories');
const files = readdirSync(dir).filter((file) => file.endsWith('.json'));

beforeAll(() => quietTemporalLogs());

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(3);
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  // Files hold the history object as written by JSON.stringify; fromObject rebuilds the protobuf message.
  const history = temporal.api.history.v1.History.fromObject(
    JSON.parse(readFileSync(join(dir, file), 'utf8')),
  );
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, file);
});

// A local activity writes from inside the workflow task that decides it; if the server times that task out (a
// starved worker), the run is replayed without it and may take another path: the soak saw changes applied, and
// cancels recorded, by runs that then expired. Only the opening (idempotent, before anything else can happen)
// may be local; every later write is an activity the history schedules before it runs.
test.each(files)('%s: no local activity after the first workflow task', (file) => {
  const { events } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { events: { eventType: string }[] };
  const secondTask = events.findIndex(
    (event, i) => i > 1 && event.eventType === 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
  );
  const lateMarkers = events.slice(secondTask).filter((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED');
  expect(secondTask).toBeGreaterThan(0);
  expect(lateMarkers).toHaveLength(0);
});
