import type { Attempt } from './load';

/**
 * What the customers' retries may make and ask, judged from the tries they sent (the load records every one, with
 * its answer or the lack of one): the checker's `converged` and the resends behind `codesKept`.
 */

/** A task or move one story's request made: when, and when it ended (its terminal audit event), if it did. */
export interface MadeRequest {
  id: number;
  madeAt: number;
  endedAt?: number;
}

/**
 * The tasks (or moves) one story's single request made, oldest first. The API answers the same request with the
 * open task or move it made; once that one has ended, the same request is a new one (docs/decisions/moves.md, "A
 * retried create"). With tasks expiring within a minute and a client retrying for three, a try still out when
 * the first ended may so make a second: not a divergence. One made while the one before was still open, or with
 * no try of the request still out after that one's end, is.
 */
export function judgeRetries(
  made: MadeRequest[],
  tries: Pick<Attempt, 'startedAt' | 'endedAt'>[],
): { diverged: string[]; newAfterEnd: string[] } {
  const diverged: string[] = [];
  const newAfterEnd: string[] = [];
  const sorted = [...made].sort((a, b) => a.id - b.id);
  for (let i = 1; i < sorted.length; i++) {
    const [before, later] = [sorted[i - 1], sorted[i]];
    const ended = before.endedAt;
    if (ended === undefined || ended > later.madeAt) {
      diverged.push(`${later.id} made while ${before.id} was still open`);
      continue;
    }
    if (!tries.some((attempt) => attempt.endedAt >= ended)) {
      diverged.push(`${later.id} made after ${before.id} ended, yet no try of the request was out by then`);
      continue;
    }
    newAfterEnd.push(`${later.id} made by a try still out when ${before.id} had ended`);
  }
  return { diverged, newAfterEnd };
}

/**
 * How many fresh codes for this person a story's customers asked for: every resend try that named them and was
 * not refused (a try without an answer, or answered 5xx, may have been taken; a 200 names whom it sent to).
 */
export function resendsAsked(attempts: Attempt[], story: number, handle: string): number {
  return attempts.filter(
    (attempt) =>
      attempt.story === story &&
      attempt.resendTo?.includes(handle) &&
      (attempt.status === undefined || attempt.status === 200 || attempt.status >= 500),
  ).length;
}
