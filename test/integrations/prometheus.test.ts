import { join } from 'node:path';
import { promtool } from '../helpers/prometheus';

const config = join(__dirname, '..', '..', 'docker', 'prometheus');

test('the alert rules of the compose deployment load, and each fires on its failure and only then', () => {
  expect(promtool(['check', 'rules', 'alerts.yml'], undefined, config)).toMatchObject({ ok: true });
  // docker/prometheus/alerts.test.yml: a healthy deployment, then each failure the README names.
  const tested = promtool(['test', 'rules', 'alerts.test.yml'], undefined, config);
  expect(tested.output).toContain('SUCCESS');
  expect(tested.ok).toBe(true);
});
