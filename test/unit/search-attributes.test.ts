import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGISTERED_SEARCH_ATTRIBUTES } from '../../lib/search-attributes';

// The workflow upserts every one of them: a namespace that lacks one fails the run's workflow tasks for ever.
test("compose's namespace job registers every search attribute the app publishes, with its type", () => {
  const script = readFileSync(join(__dirname, '../../docker/temporal/setup-namespace.sh'), 'utf8');
  const list = /for attribute in ([^;]+);/.exec(script)![1].trim().split(/\s+/);
  expect(list.sort()).toEqual(REGISTERED_SEARCH_ATTRIBUTES.map(({ name, type }) => `${name}:${type}`).sort());
});
