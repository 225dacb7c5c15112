import { loadavg } from 'node:os';
import { keptState } from './kept-state';
import { BULK_MAIL, printOpenTasks, runOnTop, seedOpenTasks } from './open-tasks';
import { cpuMeter, memoryMeter, mib, startBenchStack } from './stack';

/**
 * npm run bench:open-tasks: the many-open-tasks part of `npm run bench` (issue 13) at its real size, on a data
 * folder kept between runs (scripts/bench/kept-state.ts). Each run first brings the open tasks up to
 * BENCH_OPEN_TASKS (100,000) for at most BENCH_SEED_MINUTES (15: the measurement lock's turn is 20); once they are
 * all open, the same run measures on top of them: memory, stories on top at BENCH_ON_TOP_RATE stories/s (1) for
 * BENCH_ON_TOP_SECONDS (60) beside at least 100 accepts of evicted tasks, and a worker restart. Run it again until
 * it measures: the seeding goes on where it stopped. BENCH_TEMPORAL=postgres, BENCH_WORKER_CACHE,
 * BENCH_WORKER_ENV and BENCH_CPU_PROFILE as for `npm run bench`.
 */
const TARGET = Number(process.env.BENCH_OPEN_TASKS ?? 100_000);
const SEED_MINUTES = Number(process.env.BENCH_SEED_MINUTES ?? 15);
const ON_TOP_RATE = Number(process.env.BENCH_ON_TOP_RATE ?? 1);
const ON_TOP_SECONDS = Number(process.env.BENCH_ON_TOP_SECONDS ?? 60);
const ON_POSTGRES = process.env.BENCH_TEMPORAL === 'postgres';
const WORKER_CACHE = process.env.BENCH_WORKER_CACHE;
const WORKER_ENV = Object.fromEntries(
  (process.env.BENCH_WORKER_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

const log = (line: string) => process.stdout.write(`${line}\n`);
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')} (${new Date().toISOString()})`;

async function main() {
  log(`many open tasks, kept between runs: ${TARGET} open, then stories on top; start: ${load()}`);
  const kept = keptState(ON_POSTGRES ? 'postgres' : 'dev', log);
  const started = performance.now();
  const stack = await startBenchStack(log, {
    workerProcess: true,
    // The API apart from the load generator, as in npm run bench: its memory and CPU are then its own.
    apiProcess: true,
    temporalOnPostgres: ON_POSTGRES,
    dataDir: kept.dir,
    appSettings: {
      ...kept.secrets,
      ...(WORKER_CACHE ? { WORKER_MAX_CACHED_WORKFLOWS: WORKER_CACHE } : {}),
      ...WORKER_ENV,
    },
    discardMailTo: (recipient) => BULK_MAIL.test(recipient),
  });
  try {
    log(
      `stack up in ${((performance.now() - started) / 1000).toFixed(1)} s: RSS ${Object.entries(
        memoryMeter(stack).read(),
      )
        .map(([part, { now }]) => `${part} ${mib(now)}`)
        .join(', ')}`,
    );
    const seed = await seedOpenTasks(stack, log, {
      target: TARGET,
      budgetMs: SEED_MINUTES * 60_000,
      cpu: cpuMeter(stack),
    });
    log(`seeding done: ${load()}`);
    if (seed.open < TARGET) {
      const perSecond = seed.started / Math.max(seed.seconds, 1e-9);
      const left = TARGET - seed.open;
      log(
        `\n${seed.open} of ${TARGET} open: run again to go on (the state is kept in ${kept.dir}); at this run's ${perSecond.toFixed(1)}/s, ${(left / perSecond / 60).toFixed(0)} more minutes`,
      );
      return;
    }
    const result = await runOnTop(stack, log, {
      seed,
      cacheSize: stack.config.WORKER_MAX_CACHED_WORKFLOWS,
      storiesPerSecond: ON_TOP_RATE,
      seconds: ON_TOP_SECONDS,
    });
    printOpenTasks(log, result);
    log(`\nend: ${load()}`);
  } finally {
    await stack.close();
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
