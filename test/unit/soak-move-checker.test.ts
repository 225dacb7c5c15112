import type { Invariant } from '../../scripts/soak/checker';
import type { Story } from '../../scripts/soak/load';
import {
  checkItems,
  checkWrites,
  type CheckedTask,
  type ObservedWrite,
} from '../../scripts/soak/move-checker';
import { drawMovePlan, moveParties } from '../../scripts/soak/moves';

/** The soak's move checker flags what it is meant to flag (a checker that cannot fail proves nothing). */

const at = new Date('2026-12-07T16:00:00Z');
const events = (...actions: string[]) => actions.map((action) => ({ action, createdAt: at }));
const item = (over: Partial<CheckedTask>): CheckedTask => ({
  id: 1,
  serviceId: 1,
  serviceName: 'mv0-0.test',
  state: 'done',
  reason: null,
  contactTypes: ['contactTech'],
  toAccount: 'mn0-ovh',
  moveId: 7,
  validators: [{ handle: 'mv0-ovh' }, { handle: 'mn0-ovh' }],
  events: events('created', 'applied'),
  ...over,
});
function flagged(run: (flag: (invariant: Invariant, line: string) => void) => void) {
  const lines: string[] = [];
  run((invariant, line) => lines.push(`${invariant}: ${line}`));
  return lines;
}

test('items of a done move: applied once, excluded refused, skipped without events pass', () => {
  const items = [
    item({}),
    item({ id: 2, state: 'refused', reason: 'excludedByValidator', events: events('created', 'refused') }),
    item({ id: 3, state: 'refused', reason: 'roleNotHeld', validators: [], events: [] }),
  ];
  expect(flagged((flag) => checkItems('move 7', { state: 'done' }, items, flag))).toEqual([]);
});

test('an item applied twice, one ended unlike its move, one skipped with events are each flagged', () => {
  const items = [
    item({ events: events('created', 'applied', 'applied') }),
    item({ id: 2, state: 'expired', reason: 'notValidatedInTime', events: events('created', 'expired') }),
    item({ id: 3, state: 'refused', reason: 'taskAlreadyOpen', validators: [], events: events('refused') }),
  ];
  const lines = flagged((flag) => checkItems('move 7', { state: 'done' }, items, flag));
  expect(lines).toEqual([
    expect.stringMatching(/^appliedOnce: move 7 item 1 .* 2 "applied"/),
    expect.stringMatching(/^oneFinalState: move 7 item 1 .* ends with \[applied,applied\]/),
    expect.stringMatching(/^oneFinalState: move 7 item 2 .* expired .* in a move that is done/),
    expect.stringMatching(/^oneFinalState: move 7 item 3 .* skipped at creation/),
  ]);
});

test('contact writes: each role of a done item written once to its new holder; nothing else written', () => {
  const plan = { ...drawMovePlan('moveAccept', 0, 5), services: [{ name: 'mv0-0.test', techByMover: true }] };
  const story = { index: 0, kind: 'moveAccept', move: { plan } } as unknown as Story;
  const ids = { mover: 10, newcomer: 12 };
  const handleOf = new Map([
    [ids.mover, moveParties(0).mover],
    [ids.newcomer, moveParties(0).newcomer],
  ]);
  const service = {
    id: 1,
    name: 'mv0-0.test',
    adminId: ids.mover,
    techId: ids.newcomer,
    billingId: ids.mover,
  };
  const techWrite: ObservedWrite = { serviceId: 1, admin: [10, 10], tech: [10, 12], billing: [10, 10] };
  const check = (tasks: CheckedTask[], writes: ObservedWrite[]) =>
    flagged((flag) => checkWrites([story], tasks, writes, [service], handleOf, flag));

  expect(check([item({})], [techWrite])).toEqual([]);
  expect(check([item({})], [techWrite, techWrite])).toEqual([
    expect.stringMatching(/^appliedOnce: .* tech contact was changed 2 times by 1 done changes/),
  ]);
  // Left out by a validator, yet written: the write and the holder are both wrong.
  const excluded = item({ state: 'refused', reason: 'excludedByValidator' });
  expect(check([excluded], [techWrite])).toEqual([
    expect.stringMatching(/changed 1 times by 0 done changes/),
    expect.stringMatching(/tech contact mn0-ovh, expected mv0-ovh/),
  ]);
});
