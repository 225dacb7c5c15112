import { readFileSync } from 'node:fs';

/**
 * npm run bench:profile -- <file.cpuprofile> [rows]: where a V8 CPU profile's time went, by self time, per
 * function and per package (node_modules/<name>, this project's folders, V8 and Node.js internals).
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npm run bench:profile -- <file.cpuprofile> [rows]\n');
  process.exit(2);
}
const rows = Number(rowsArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
};
const hits = new Map<number, number>();
for (const sample of profile.samples) hits.set(sample, (hits.get(sample) ?? 0) + 1);
const total = profile.samples.length;

const packageOf = (url: string, name: string) => {
  if (!url) return name.startsWith('(') ? name : '(native / V8)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(activities|api|domain|lib|scripts|worker|workflows|generated|prisma)\//.exec(url);
  return own ? `project ${own[1]}/` : url;
};

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const count = hits.get(node.id) ?? 0;
  if (count === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(?=[a-z]+\/)/, '')}:${lineNumber + 1}`
    : '';
  const fn = `${functionName || '(anonymous)'} ${where}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + count);
  const pkg = packageOf(url, functionName);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + count);
}
const seconds = (profile.endTime - profile.startTime) / 1e6;
const share = (count: number) => `${((100 * count) / total).toFixed(1)} %`;
const top = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, rows);
process.stdout.write(
  `${file}: ${total} samples over ${seconds.toFixed(1)} s\n\n| self time by package | share |\n| --- | --- |\n`,
);
for (const [name, count] of top(byPackage)) process.stdout.write(`| ${name} | ${share(count)} |\n`);
process.stdout.write('\n| self time by function | share |\n| --- | --- |\n');
for (const [name, count] of top(byFunction)) process.stdout.write(`| ${name} | ${share(count)} |\n`);
