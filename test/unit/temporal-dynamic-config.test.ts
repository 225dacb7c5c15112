import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { devServerDynamicConfigFlags, temporalDynamicConfigFile } from '../../lib/temporal-dynamic-config';

const repo = resolve(__dirname, '../..');

test('the dev server gets the dynamic configuration as flags, eager activity dispatch among them', () => {
  expect(devServerDynamicConfigFlags()).toEqual(
    expect.arrayContaining(['--dynamic-config-value', 'system.enableActivityEagerExecution=true']),
  );
});

test('a value the dev server cannot take as a flag (a constraint) is refused, not dropped', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dynamic-config-')), 'config.yaml');
  writeFileSync(file, 'history.x:\n  - value: 1\n    constraints: { namespace: default }\n');
  expect(() => devServerDynamicConfigFlags(file)).toThrow(/without constraints/);
  writeFileSync(file, '');
  expect(devServerDynamicConfigFlags(file)).toEqual([]);
});

// The deployment's server and the ones the scripts measure must not drift apart.
test("compose's Temporal server reads the project's dynamic configuration file", () => {
  const compose = parse(readFileSync(join(repo, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: { temporal: { environment: Record<string, string>; volumes: string[] } };
  };
  const { environment, volumes } = compose.services.temporal;
  const mounted = volumes
    .map((volume) => volume.split(':'))
    .find(([, target]) => target === environment.DYNAMIC_CONFIG_FILE_PATH);
  expect(mounted).toBeDefined();
  expect(resolve(repo, mounted![0])).toBe(temporalDynamicConfigFile());
});
