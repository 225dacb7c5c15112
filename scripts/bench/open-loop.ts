import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './http';
import type { BenchStack } from './stack';
import {
  OPEN_LOOP_CAST,
  openSessions,
  runStory,
  seedStories,
  StoryLatencies,
  type StoryCast,
  type StorySession,
} from './stories';

/** The loads of the open-loop phase, as fractions of the story throughput measured closed-loop. */
export const OPEN_LOOP_LOADS = [0.25, 0.5, 0.75];

export interface OpenLoopLevel {
  load: number;
  perSecond: number;
  started: number;
  failed: number;
  firstFailure?: string;
  /** How late the load generator started a story against its schedule, at worst (its process is the API's). */
  worstStartLagMs: number;
  /** From the first scheduled start to the last story's end. */
  seconds: number;
  latencies: StoryLatencies;
}

const storiesAt = (perSecond: number, seconds: number) => Math.max(1, Math.round(perSecond * seconds));

/**
 * Latency at a given load: stories arrive on a fixed schedule (a new one starts on time whether or not earlier
 * ones finished), for `seconds` at each load, one load after the other once the previous one has drained.
 */
export async function runOpenLoop(
  stack: BenchStack,
  log: (line: string) => void,
  maxPerSecond: number,
  seconds: number,
): Promise<OpenLoopLevel[]> {
  const rates = OPEN_LOOP_LOADS.map((load) => ({ load, perSecond: load * maxPerSecond }));
  const total = rates.reduce((sum, { perSecond }) => sum + storiesAt(perSecond, seconds), 0);
  log(`open loop: seeding ${total} more stories`);
  await seedStories(stack, OPEN_LOOP_CAST, total);
  const levels: OpenLoopLevel[] = [];
  let next = 0;
  for (const { load, perSecond } of rates) {
    const count = storiesAt(perSecond, seconds);
    log(
      `open loop at ${(100 * load).toFixed(0)} % of the maximum: ${perSecond.toFixed(2)} stories/s for ${seconds} s (${count} stories)`,
    );
    const latencies = new StoryLatencies();
    const stories = Array.from({ length: count }, (_, k) => next + k);
    const sessions = await openSessions(stack, log, OPEN_LOOP_CAST, stories, latencies);
    levels.push(await runLevel(stack, OPEN_LOOP_CAST, sessions, stories, latencies, load, perSecond));
    next += count;
  }
  return levels;
}

/** Stories of `cast` started on a fixed schedule at `perSecond`, whether or not earlier ones finished. */
export async function runLevel(
  stack: BenchStack,
  cast: StoryCast,
  sessions: StorySession[],
  stories: number[],
  latencies: StoryLatencies,
  load: number,
  perSecond: number,
): Promise<OpenLoopLevel> {
  const level: OpenLoopLevel = {
    load,
    perSecond,
    started: 0,
    failed: 0,
    worstStartLagMs: 0,
    seconds: 0,
    latencies,
  };
  const origin = performance.now();
  const running: Promise<void>[] = [];
  for (const [k, i] of stories.entries()) {
    const due = origin + (k * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    level.worstStartLagMs = Math.max(level.worstStartLagMs, performance.now() - due);
    level.started++;
    running.push(
      runStory(stack, cast, sessions[i], i, latencies).catch((error: Error) => {
        level.failed++;
        level.firstFailure ??= error.message;
      }),
    );
  }
  await Promise.all(running);
  level.seconds = (performance.now() - origin) / 1000;
  return level;
}

export const ms = (value: number) => (Number.isNaN(value) ? '-' : `${value.toFixed(0)} ms`);
export const p50p99 = (values: number[]) => `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`;

/** Targets at 50 % of the maximum (issue 13): what a person clicking waits for. */
const API_P99_TARGET_MS = 250;
const APPLIED_P99_TARGET_MS = 500;

export function printOpenLoop(log: (line: string) => void, levels: OpenLoopLevel[], maxPerSecond: number) {
  log(
    `\n| open loop: load (of ${maxPerSecond.toFixed(2)} stories/s) | stories/s | stories (failed) | worst start lag | changeContact p50 / p99 | accept p50 / p99 | GET task p50 / p99 | last acceptance -> applied p50 / p99 |`,
  );
  log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const { load, perSecond, started, failed, worstStartLagMs, latencies } of levels) {
    log(
      `| ${(100 * load).toFixed(0)} % | ${perSecond.toFixed(2)} | ${started} (${failed}) | ${ms(worstStartLagMs)} | ${p50p99(latencies.of('changeContact'))} | ${p50p99(latencies.of('accept'))} | ${p50p99(latencies.of('get task'))} | ${p50p99(latencies.apply)} |`,
    );
  }
  log(
    `| target at 50 % | | no failure | | p99 < ${API_P99_TARGET_MS} ms | p99 < ${API_P99_TARGET_MS} ms | p99 < ${API_P99_TARGET_MS} ms | p99 < ${APPLIED_P99_TARGET_MS} ms |`,
  );
  const half = levels.find((level) => level.load === 0.5);
  if (half) {
    const p99 = (values: number[]) => percentile(values, 99);
    const misses = [
      ...(['changeContact', 'accept', 'get task'] as const)
        .filter((kind) => !(p99(half.latencies.of(kind)) < API_P99_TARGET_MS))
        .map((kind) => `${kind} p99 ${ms(p99(half.latencies.of(kind)))}`),
      ...(p99(half.latencies.apply) < APPLIED_P99_TARGET_MS
        ? []
        : [`applied p99 ${ms(p99(half.latencies.apply))}`]),
      ...(half.failed > 0 ? [`${half.failed} failed stories`] : []),
    ];
    log(`\nat 50 %: ${misses.length === 0 ? 'every target met' : `targets missed: ${misses.join(', ')}`}`);
  }
  for (const level of levels.filter((l) => l.firstFailure)) {
    log(`at ${(100 * level.load).toFixed(0)} %, first failure: ${level.firstFailure}`);
  }
}
