import type { Invariant } from '../../scripts/soak/checker';
import type { Attempt, Story } from '../../scripts/soak/load';
import { checkMoveStory } from '../../scripts/soak/move-checker';
import { drawMovePlan } from '../../scripts/soak/moves';
import { judgeRetries, resendsAsked } from '../../scripts/soak/retries';

/** The soak's checker on retries: what a retried request may make, how many fresh codes the customers asked. */

const tryAt = (startedAt: number, endedAt: number) => ({ startedAt, endedAt });

test('a second task made while the first was open, or with no try out after its end, diverged', () => {
  expect(judgeRetries([{ id: 1, madeAt: 0 }], [tryAt(0, 100)])).toEqual({ diverged: [], newAfterEnd: [] });
  // Still open (no end), or ended after the second was made.
  expect(
    judgeRetries(
      [
        { id: 1, madeAt: 0 },
        { id: 2, madeAt: 500 },
      ],
      [tryAt(0, 60_000), tryAt(61_000, 62_000)],
    ).diverged,
  ).toEqual(['2 made while 1 was still open']);
  expect(
    judgeRetries(
      [
        { id: 1, madeAt: 0, endedAt: 900 },
        { id: 2, madeAt: 500 },
      ],
      [tryAt(0, 60_000), tryAt(61_000, 62_000)],
    ).diverged,
  ).toEqual(['2 made while 1 was still open']);
  // Made after the first ended, but every try had its answer before that end: nothing asked for a second.
  expect(
    judgeRetries(
      [
        { id: 1, madeAt: 0, endedAt: 60_000 },
        { id: 2, madeAt: 70_000 },
      ],
      [tryAt(0, 1_000)],
    ).diverged,
  ).toEqual(['2 made after 1 ended, yet no try of the request was out by then']);
});

test('a try still out when the first task ended may make a new one: reported, not a divergence', () => {
  const made = [
    { id: 7, madeAt: 0, endedAt: 60_000 },
    { id: 9, madeAt: 61_500 },
  ];
  // The first try went unanswered for 60 s; its retry, at 61 s, found the first expired.
  expect(judgeRetries(made, [tryAt(0, 60_000), tryAt(61_000, 61_600)])).toEqual({
    diverged: [],
    newAfterEnd: ['9 made by a try still out when 7 had ended'],
  });
});

test('resends asked: every try naming the person counts unless refused; a 200 counts whom it sent to', () => {
  const attempt = (over: Partial<Attempt>): Attempt => ({
    story: 3,
    op: 'resendEmail (needs attention)',
    startedAt: 0,
    endedAt: 1,
    ...over,
  });
  const attempts = [
    attempt({ error: 'timeout', resendTo: ['ne3-ovh', 'ad3-ovh'] }), // unanswered: may have been taken
    attempt({ status: 503, retryAfter: '1', resendTo: ['ne3-ovh'] }), // 5xx: may have been taken
    attempt({ status: 200, resendTo: ['ad3-ovh'] }), // answered: sent to the admin only
    attempt({ status: 429, reason: 'resendTooSoon', resendTo: ['ne3-ovh'] }), // refused: nothing sent
    attempt({ story: 4, status: 200, resendTo: ['ne3-ovh'] }), // another story's
    attempt({ op: 'read needs attention', status: 200 }), // not a resend
  ];
  expect(resendsAsked(attempts, 3, 'ne3-ovh')).toBe(2);
  expect(resendsAsked(attempts, 3, 'ad3-ovh')).toBe(2);
  expect(resendsAsked(attempts, 3, 'te3-ovh')).toBe(0);
});

describe('a move story', () => {
  const flagged = (story: Story, moves: Parameters<typeof checkMoveStory>[1], requests = [] as never[]) => {
    const lines: string[] = [];
    checkMoveStory(story, moves, requests, [], [], (invariant: Invariant, line: string) =>
      lines.push(`${invariant}: ${line}`),
    );
    return lines;
  };
  const collideStory = (dryRunReason: string | undefined): Story => ({
    index: 5,
    kind: 'moveCollide',
    startedAt: 0,
    taskIds: [],
    accepted: [],
    deliveredCodeRefused: [],
    surprises: [],
    move: {
      plan: drawMovePlan('moveCollide', 5, 1),
      fromAccount: 'mv5-ovh',
      dryRunReasons: {},
      moveIds: [],
      excluded: {},
      collision: { singleTaskIds: [], singleCancelled: false, dryRunReason },
    },
  });

  test('a collision whose dry run was never answered is not held to its answer', () => {
    expect(flagged(collideStory(undefined), [])).toEqual([]);
    expect(flagged(collideStory('movable'), [])).toEqual([
      "exclusive: story 5 (moveCollide): the dry run called the single task's service movable",
    ]);
  });

  test('two moves for one create: a divergence unless the first had ended before a try still out', () => {
    const story = collideStory('taskAlreadyOpen');
    const at = (ms: number) => new Date(ms);
    const requests = [
      { id: 10, askingAccount: 'mv5-ovh', createdAt: at(0) },
      { id: 29, askingAccount: 'mv5-ovh', createdAt: at(70_000) },
    ];
    const open = { id: 10, state: 'todo', dateDone: null, events: [] };
    expect(flagged(story, [open], requests as never[])).toEqual([
      'converged: story 5 (moveCollide): move 29 made while 10 was still open',
    ]);
  });
});
