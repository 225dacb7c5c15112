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
