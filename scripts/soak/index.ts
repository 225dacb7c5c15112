import { writeFileSync } from 'node:fs';
import { killDescendants } from '../stack/processes';
import { runSoak, soakOptionsFromEnv, stopRunningSoaks } from './run';

/**
 * npm run soak: the whole stack under a steady open-loop load of customer stories while seeded faults strike at
 * random moments, then an independent checker (scripts/soak/checker.ts). See docs/soak.md.
 * SOAK_SEED, SOAK_DURATION (10m), SOAK_RATE (2 stories/s), SOAK_TEMPORAL=postgres, SOAK_FAULTS, SOAK_FAULT_GAP;
 * SOAK_REPORT=file writes the report as JSON (the test suite's run reads it).
 */
const log = (line: string) => process.stdout.write(`${line}\n`);

// Interrupted (Ctrl-C, a timeout's SIGTERM), or whoever reads our output is gone: stop the stack (cleanly, for
// 10 s at most), then kill whatever still runs below this process (a stack still starting, say), so that no
// worker, API, Temporal server or PostgreSQL outlives the run.
let stopping = false;
const stopAndExit = (why: string, code: number) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`soak: ${why}, stopping the stack\n`);
  const hardStop = () => {
    killDescendants();
    process.exit(code);
  };
  setTimeout(hardStop, 10_000).unref();
  void stopRunningSoaks().finally(hardStop);
};
process.once('SIGINT', () => stopAndExit('interrupted', 130));
process.once('SIGTERM', () => stopAndExit('terminated', 143));
process.stdout.on('error', () => stopAndExit('output closed', 2));

runSoak(soakOptionsFromEnv(process.env, log)).then(
  (report) => {
    if (process.env.SOAK_REPORT) writeFileSync(process.env.SOAK_REPORT, JSON.stringify(report, null, 2));
    process.exit(report.violations === 0 ? 0 : 1);
  },
  (error: Error) => {
    process.stderr.write(`soak failed to run: ${error.stack}\n`);
    process.exit(2);
  },
);
