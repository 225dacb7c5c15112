import { runSoak, soakOptionsFromEnv } from './run';

/**
 * npm run soak: the whole stack under a steady open-loop load of customer stories while seeded faults strike at
 * random moments, then an independent checker (scripts/soak/checker.ts). See docs/soak.md.
 * SOAK_SEED, SOAK_DURATION (10m), SOAK_RATE (2 stories/s), SOAK_TEMPORAL=postgres, SOAK_FAULTS, SOAK_FAULT_GAP.
 */
const log = (line: string) => process.stdout.write(`${line}\n`);

runSoak(soakOptionsFromEnv(process.env, log)).then(
  (report) => process.exit(report.violations === 0 ? 0 : 1),
  (error: Error) => {
    process.stderr.write(`soak failed to run: ${error.stack}\n`);
    process.exit(2);
  },
);
