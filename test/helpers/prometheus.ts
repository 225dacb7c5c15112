import { spawnSync } from 'node:child_process';

/** One sample's value from Prometheus text ("name{labels} value"), by name and the labels it has. */
export function sample(text: string, name: string, ...labels: string[]): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) =>
        (l.startsWith(`${name}{`) && labels.every((label) => l.includes(label))) ||
        (labels.length === 0 && l.startsWith(`${name} `)),
    );
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/**
 * Prometheus's own checks, by Debian's `prometheus` package's promtool (scripts/prerequisites.sh test installs it):
 * its output, and whether it passed.
 */
export function promtool(args: string[], input?: string, cwd?: string): { ok: boolean; output: string } {
  const run = spawnSync('promtool', args, { input, cwd, encoding: 'utf8' });
  if (run.error) {
    throw new Error(
      `promtool: ${run.error.message} (apt-get install prometheus; scripts/prerequisites.sh test does)`,
    );
  }
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}
