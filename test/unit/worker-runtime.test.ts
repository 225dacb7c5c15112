import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { WORKER_ENV, WORKER_NODE_ARGS } from '../../scripts/stack/processes';

// docker-compose.yml keeps a copy of the worker's runtime settings that every script's worker runs with
// (docs/operations.md, "The worker's memory"): the deployment and what the bench measured must not drift apart.
test("compose's worker runs with the node flags and environment of the scripts' workers", () => {
  const compose = parse(readFileSync(join(__dirname, '../../docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services: { worker: { command: string[]; environment: Record<string, string> } };
  };
  const { command, environment } = compose.services.worker;
  expect(command).toEqual(['node', ...WORKER_NODE_ARGS, 'worker/main.js']);
  expect(environment).toMatchObject(WORKER_ENV);
});
