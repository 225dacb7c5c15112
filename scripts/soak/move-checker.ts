import type { StoredMail } from '../../lib/mailbox';
import type { CheckInput, Invariant } from './checker';
import type { InjectedFault } from './faults';
import {
  askerAttentionOutcome,
  attentionFlags,
  copiesOf,
  mailOutcome,
  namedAsRefused,
  refusedForGood,
} from './mail-checks';
import type { Attempt, Story } from './load';
import { isMoveStory, moveParties, ROLE_COLUMNS, type MoveRole } from './moves';
import { judgeRetries, resendsAsked } from './retries';
import { visibleWorkflows, workflowOutcome } from './visibility';

/**
 * The checker's move section: every move the load asked for, held to the same invariants as a single task, from
 * the outside only (contact_move, contact_move_validator, the items = contact_change_task rows with move_id, the
 * audit log, the trigger's record of every contact write, the mailbox, Temporal's visibility and each run's
 * result, the API as the asker reads it) and against what the move stories' customers were told (moves.ts).
 */

type Flag = (invariant: Invariant, line: string) => void;

/** A task row as the checker reads it (checker.ts), with its validators and audit events. */
export interface CheckedTask {
  id: number;
  serviceId: number;
  serviceName: string;
  state: string;
  reason: string | null;
  contactTypes: string[];
  toAccount: string;
  moveId: number | null;
  validators: { handle: string }[];
  events: { action: string; createdAt: Date }[];
}

/** A write of a service's contacts, as the soak's trigger saw it (run.ts: observeContactChanges). */
export interface ObservedWrite {
  serviceId: number;
  /** [old, new] account id per role column. */
  admin: [number | null, number | null];
  tech: [number | null, number | null];
  billing: [number | null, number | null];
}

export interface MoveCheckResult {
  moves: number;
  statesSeen: Record<string, number>;
  /** A create retried after the move its first try made had ended, which so made a new move (not a violation). */
  newAfterEnd: string[];
  itemsApplied: number;
  /** The same mail delivered again (same Message-ID and content), with the fault that explains it (mail-checks.ts). */
  resentCopies: string[];
  /** Mails the mail server refused for good while the move said so (needs attention). */
  refusedAndSaid: number;
  /** How long each move's apply took (moveApplying → moveApplied), in seconds. */
  applySeconds: number[];
  /** Moves whose apply ran while a fault struck (what the soak means to hit), with the faults. */
  appliesUnderFault: string[];
}

const FINAL_MOVE_STATES = ['done', 'refused', 'expired', 'cancelled', 'aborted'];
/** The move's own audit event that ends it in each final state. */
const MOVE_TERMINAL_EVENTS: Record<string, string> = {
  done: 'moveApplied',
  refused: 'moveRefused',
  expired: 'moveExpired',
  cancelled: 'moveCancelled',
  aborted: 'moveAborted',
};
/** An item's audit event that ends it in each final state (a move's items end as single tasks do). */
const ITEM_TERMINAL_EVENTS: Record<string, string[]> = {
  done: ['applied'],
  refused: ['refused', 'refusedAtApply'],
  expired: ['expired'],
  aborted: ['cancelled', 'abortedAtApply'],
};
const ALL_ITEM_TERMINAL_EVENTS = Object.values(ITEM_TERMINAL_EVENTS).flat();
/** How an item validators were asked about may end, by the move's final state (skips and exclusions aside). */
const ITEM_END_BY_MOVE: Record<string, string[]> = {
  done: ['done'],
  refused: ['refused'],
  expired: ['expired'],
  cancelled: ['aborted'],
  aborted: [],
};
/** Reasons an item ends refused without the move's own end: a rule (skipped) or a validator (excluded). */
const ITEM_REASONS_ANY_MOVE = ['excludedByValidator'];
const ROLES: MoveRole[] = ['admin', 'tech', 'billing'];

/** A move mail's identity as sent: <move-ID.STEP.TEMPLATE.HANDLE@contacts>, one per (move, step, person). */
export function moveMailIdentity(mail: Pick<StoredMail, 'messageId'>) {
  const match = /^<move-(\d+)\.(.+)\.([^.@]+)@contacts>$/.exec(mail.messageId);
  if (!match) return undefined;
  return { moveId: Number(match[1]), step: match[2], handle: match[3] };
}

export async function checkMoves(
  input: CheckInput,
  tasks: CheckedTask[],
  writes: ObservedWrite[],
  flag: Flag,
): Promise<MoveCheckResult> {
  const { db } = input;
  const [moves, requests, accounts, services] = await Promise.all([
    db.contactMove.findMany({
      include: { validators: true, events: { orderBy: { id: 'asc' } } },
      orderBy: { id: 'asc' },
    }),
    db.contactMoveRequest.findMany({ select: { id: true, askingAccount: true, createdAt: true } }),
    db.account.findMany({ select: { id: true, handle: true } }),
    db.service.findMany({ select: { id: true, name: true, adminId: true, techId: true, billingId: true } }),
  ]);
  const handleOf = new Map(accounts.map((a) => [a.id, a.handle]));
  const workflows = await visibleWorkflows(input.client, 'contactMove');
  const itemsOf = new Map<number, CheckedTask[]>();
  for (const task of tasks)
    if (task.moveId !== null) itemsOf.set(task.moveId, [...(itemsOf.get(task.moveId) ?? []), task]);
  const statesSeen: Record<string, number> = {};
  const storyOfMover = new Map(
    input.stories.filter((s) => isMoveStory(s.kind)).map((s) => [moveParties(s.index).mover, s]),
  );
  const mails = movesMails(input, flag);

  for (const request of requests)
    if (!moves.some((move) => move.id === request.id))
      flag('oneFinalState', `move ${request.id}: requested, never recorded (nothing will ever end it)`);

  for (const move of moves) {
    const where = `move ${move.id} (${move.askingAccount}: ${move.contactTypes.join('+')} ${move.fromAccount} → ${move.toAccount})`;
    statesSeen[move.state] = (statesSeen[move.state] ?? 0) + 1;
    const items = itemsOf.get(move.id) ?? [];
    const story = storyOfMover.get(move.askingAccount);

    // One final state, the same in the read model, its audit log, Temporal and the API.
    if (!FINAL_MOVE_STATES.includes(move.state)) flag('oneFinalState', `${where} is still ${move.state}`);
    const terminal = move.events.filter((e) => Object.values(MOVE_TERMINAL_EVENTS).includes(e.action));
    if (terminal.length !== 1 || terminal[0].action !== MOVE_TERMINAL_EVENTS[move.state])
      flag(
        'oneFinalState',
        `${where}: state ${move.state}, its audit log ends with [${terminal.map((e) => e.action)}]`,
      );
    if (move.events.filter((e) => e.action === 'moveCreated').length !== 1)
      flag('oneFinalState', `${where}: not exactly one "moveCreated" in the audit log`);
    const workflow = workflows.get(`${move.workflowId}/${move.runId}`);
    if (!workflow) flag('oneFinalState', `${where}: its workflow is not in Temporal's visibility`);
    else {
      if (workflow.status !== 'COMPLETED') flag('oneFinalState', `${where}: workflow ${workflow.status}`);
      if (workflow.searchState !== move.state)
        flag(
          'oneFinalState',
          `${where}: visibility says ${workflow.searchState}, the read model ${move.state}`,
        );
      const outcome =
        workflow.status === 'COMPLETED'
          ? await workflowOutcome(input.client, move.workflowId, move.runId)
          : move.state;
      if (outcome !== move.state)
        flag('oneFinalState', `${where}: the workflow ended ${outcome}, the read model says ${move.state}`);
    }
    const session = story && input.askerSessions.get(story.index);
    if (session) {
      const shown = await session.send('GET', `/1.0/me/contactMove/${move.id}`).catch(() => undefined);
      if (shown?.json?.state !== move.state || shown?.json?.counts?.remaining !== 0)
        flag(
          'oneFinalState',
          `${where}: the API shows ${shown?.json?.state ?? `(${shown?.status})`} with ${shown?.json?.counts?.remaining} remaining, the read model ${move.state}`,
        );
    }
    if (move.state === 'done' && move.validators.some((v) => v.status !== 'accepted'))
      flag(
        'oneFinalState',
        `${where}: done, but validators ${move.validators.map((v) => `${v.handle} ${v.status}`)}`,
      );

    checkItems(where, move, items, flag);
    checkMoveMails(where, move, mails, story, input.attempts, flag);
  }

  // What the move stories' customers were told, story by story.
  const newAfterEnd: string[] = [];
  for (const story of input.stories.filter((s) => isMoveStory(s.kind)))
    newAfterEnd.push(...checkMoveStory(story, moves, requests, tasks, input.attempts, flag));

  checkWrites(input.stories, tasks, writes, services, handleOf, flag);
  return {
    moves: moves.length,
    statesSeen,
    newAfterEnd,
    itemsApplied: tasks.filter((t) => t.moveId !== null && t.state === 'done').length,
    resentCopies: mails.resentCopies,
    refusedAndSaid: mails.refusedAndSaid,
    applySeconds: applyWindows(moves).map(({ from, to }) => (to - from) / 1000),
    appliesUnderFault: appliesUnderFault(moves, itemsOf, input.faults),
  };
}

type MoveRow = Awaited<ReturnType<CheckInput['db']['contactMove']['findMany']>>[number] & {
  validators: { handle: string; status: string; excluded: string[] }[];
  events: { action: string; createdAt: Date; detail: unknown }[];
};

/** Every item in one final state that agrees with the move's, ended by exactly one event, applied once if done. */
export function checkItems(where: string, move: { state: string }, items: CheckedTask[], flag: Flag) {
  for (const item of items) {
    const at = `${where} item ${item.id} (${item.serviceName})`;
    const asked = item.validators.length > 0; // recorded movable: validators were asked about it
    const terminal = item.events.filter((e) => ALL_ITEM_TERMINAL_EVENTS.includes(e.action));
    const applied = item.events.filter((e) => e.action === 'applied').length;
    if (applied !== (item.state === 'done' ? 1 : 0))
      flag('appliedOnce', `${at}: ${item.state} with ${applied} "applied" audit events`);
    if (!asked) {
      // Skipped when the move was recorded (a rule said no): refused with its reason, no events.
      if (item.state !== 'refused' || !item.reason || item.events.length > 0)
        flag(
          'oneFinalState',
          `${at}: skipped at creation, yet ${item.state} with [${item.events.map((e) => e.action)}]`,
        );
      continue;
    }
    if (item.events.filter((e) => e.action === 'created').length !== 1)
      flag('oneFinalState', `${at}: not exactly one "created" in its audit log`);
    if (terminal.length !== 1 || !(ITEM_TERMINAL_EVENTS[item.state] ?? []).includes(terminal[0].action))
      flag(
        'oneFinalState',
        `${at}: ${item.state} (${item.reason}), its audit log ends with [${terminal.map((e) => e.action)}]`,
      );
    const agrees =
      ITEM_END_BY_MOVE[move.state]?.includes(item.state) ||
      (item.state === 'refused' && ITEM_REASONS_ANY_MOVE.includes(item.reason ?? '')) ||
      // Re-checked at apply: a rule that no longer holds skips the item, as it would a single task.
      (move.state === 'done' && /AtApply$/.test(terminal[0]?.action ?? ''));
    if (!agrees)
      flag('oneFinalState', `${at}: ${item.state} (${item.reason}) in a move that is ${move.state}`);
  }
}

/** Every contact write of the move stories' services, against the changes that reached done: each once. */
export function checkWrites(
  stories: Story[],
  tasks: CheckedTask[],
  writes: ObservedWrite[],
  services: { id: number; name: string; adminId: number; techId: number; billingId: number }[],
  handleOf: Map<number, string>,
  flag: Flag,
) {
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const story of stories) {
    if (!story.move) continue;
    const parties = moveParties(story.index);
    for (const seeded of story.move.plan.services) {
      const service = byName.get(seeded.name);
      if (!service) continue; // never seeded (the story gave up first)
      const where = `story ${story.index} (${story.kind}) ${seeded.name}`;
      const done = tasks.filter((t) => t.serviceId === service.id && t.state === 'done');
      const current = { admin: service.adminId, tech: service.techId, billing: service.billingId };
      for (const role of ROLES) {
        const changes = writes.filter((w) => w.serviceId === service.id && w[role][0] !== w[role][1]).length;
        const applying = done.filter((t) => t.contactTypes.includes(ROLE_COLUMNS[role]));
        if (changes !== applying.length)
          flag(
            'appliedOnce',
            `${where}: its ${role} contact was changed ${changes} times by ${applying.length} done changes (tasks ${done.map((t) => t.id)})`,
          );
        const seededHolder = role === 'tech' && !seeded.techByMover ? parties.techHolder : parties.mover;
        const expected = applying.length > 0 ? applying[applying.length - 1].toAccount : seededHolder;
        const holder = handleOf.get(current[role]);
        if (holder !== expected)
          flag('appliedOnce', `${where}: ${role} contact ${holder}, expected ${expected}`);
      }
    }
  }
}

/** What one move story's customers were told, against the move, its items and the single tasks it met. */
export function checkMoveStory(
  story: Story,
  moves: Pick<MoveRow, 'id' | 'state' | 'events' | 'dateDone'>[],
  requests: { id: number; askingAccount: string; createdAt: Date }[],
  tasks: CheckedTask[],
  attempts: Attempt[],
  flag: Flag,
): string[] {
  const where = `story ${story.index} (${story.kind})`;
  for (const surprise of story.surprises) flag('storiesPlayed', `${where}: ${surprise}`);
  for (const refused of story.deliveredCodeRefused) flag('codesKept', `${where}: ${refused}`);
  const record = story.move;
  if (!record) return [];
  const { mover } = moveParties(story.index);
  const ids = [...new Set(record.moveIds)];
  const asked = requests.filter((r) => r.askingAccount === mover);
  if (ids.length > 1) flag('converged', `${where}: the move request answered moves ${ids.join(', ')}`);
  if (record.createRetryLost)
    flag(
      'converged',
      `${where}: the move request, retried, answered ${record.createRetryLost} instead of its move`,
    );
  // A retry after the first move ended makes a new move (docs/decisions/moves.md): not a divergence.
  const retries = judgeRetries(
    asked.map((request) => {
      const move = moves.find((m) => m.id === request.id);
      const ended = move?.events.find((e) => Object.values(MOVE_TERMINAL_EVENTS).includes(e.action));
      return {
        id: request.id,
        madeAt: request.createdAt.getTime(),
        endedAt: (ended?.createdAt ?? move?.dateDone)?.getTime(),
      };
    }),
    attempts.filter((attempt) => attempt.story === story.index && attempt.op === 'move create'),
  );
  for (const line of retries.diverged) flag('converged', `${where}: move ${line}`);
  const newAfterEnd = retries.newAfterEnd.map((line) => `${where}: move ${line}`);
  const collision = record.collision;
  if (collision) {
    // (Unless the story never got the dry run's answer: it gave up first.)
    if (collision.dryRunReason !== undefined && collision.dryRunReason !== 'taskAlreadyOpen')
      flag('exclusive', `${where}: the dry run called the single task's service ${collision.dryRunReason}`);
    const answer = collision.singleOnMoveItem;
    if (answer && (answer.status !== 409 || answer.reason !== 'taskAlreadyOpen'))
      flag(
        'exclusive',
        `${where}: a single task on a role the move holds answered ${answer.status} ${answer.reason ?? ''}`,
      );
    for (const taskId of collision.singleTaskIds) {
      const task = tasks.find((t) => t.id === taskId);
      if (collision.singleCancelled && task && task.state !== 'aborted')
        flag(
          'toldTheTruth',
          `${where}: single task ${taskId} is ${task.state}, its asker was told cancelled`,
        );
    }
  }
  const move = moves.find((m) => m.id === ids[0]);
  if (ids.length > 0 && !move) {
    flag('oneFinalState', `${where}: move ${ids[0]} was answered but is not in the database`);
    return newAfterEnd;
  }
  if (!move) return newAfterEnd;
  const items = tasks.filter((t) => t.moveId === move.id);
  if (collision) {
    const s0 = items.find((item) => item.serviceName === record.plan.services[0].name);
    if (s0 && (s0.state !== 'refused' || s0.reason !== 'taskAlreadyOpen'))
      flag('exclusive', `${where}: the single task's service is item ${s0.id}, ${s0.state} (${s0.reason})`);
  }
  const race = collision?.race;
  if (race) {
    // Asked at the same moment: exactly one of the single task and the move got the role.
    const item = items.find((i) => i.serviceName === race.service);
    const moveHeld = item !== undefined && item.validators.length > 0;
    const singleHeld = race.status === 200;
    if (moveHeld === singleHeld || (!singleHeld && race.reason !== 'taskAlreadyOpen'))
      flag(
        'exclusive',
        `${where}: asked at the same moment on ${race.service}, the single task answered ${race.status} ${race.reason ?? ''} and the move ${moveHeld ? 'holds it' : `recorded it ${item?.state} (${item?.reason})`}`,
      );
  }
  const expected = expectedMoveEnd(story);
  if (expected && move.state !== expected)
    flag('toldTheTruth', `${where}: move ${move.id} is ${move.state}, the customers were told ${expected}`);
  // The dry run told the asker which services would move: the move recorded exactly those.
  // (The service a single task raced for is the race's to decide, not the dry run's.)
  const recorded = items
    .filter((item) => item.validators.length > 0 || item.serviceName === race?.service)
    .map((item) => item.serviceName);
  if (record.dryRunMovable) {
    const said = new Set(record.dryRunMovable);
    const differ = recorded
      .filter((name) => !said.has(name))
      .concat(record.dryRunMovable.filter((n) => !recorded.includes(n)));
    if (differ.length > 0)
      flag(
        'toldTheTruth',
        `${where}: the dry run and move ${move.id} disagree on ${differ.slice(0, 5).join(', ')}`,
      );
  }
  const excluded = Object.values(record.excluded).flat();
  for (const name of excluded) {
    const item = items.find((i) => i.serviceName === name);
    if (!item || item.state !== 'refused' || item.reason !== 'excludedByValidator')
      flag('toldTheTruth', `${where}: ${name} was left out, its item is ${item?.state} (${item?.reason})`);
  }
  if (move.state === 'done')
    for (const item of items)
      if (item.validators.length > 0 && !excluded.includes(item.serviceName) && item.state !== 'done')
        flag(
          'toldTheTruth',
          `${where}: item ${item.id} (${item.serviceName}) accepted by all, is ${item.state} (${item.reason})`,
        );
  return newAfterEnd;
}

/** The end a move story's customers were promised by the answers they got. */
export function expectedMoveEnd(story: Story): string | undefined {
  const { mover, newcomer } = moveParties(story.index);
  if (story.kind === 'moveExpire') return 'expired';
  if (story.cancelled) return 'cancelled';
  if (story.refusedBy) return 'refused';
  if (story.accepted.includes(mover) && story.accepted.includes(newcomer)) return 'done';
  return undefined;
}

const moveMailKey = (mail: Pick<StoredMail, 'messageId'>) => {
  const identity = moveMailIdentity(mail);
  return identity && `${identity.moveId}|${identity.step}|${identity.handle}`;
};

/** The moves' mails by (move, step, person): delivered, refused for good, and delivered more than once. */
function movesMails(input: CheckInput, flag: Flag) {
  const byIdentity = new Map<string, StoredMail[]>();
  for (const mail of input.mails) {
    const key = moveMailKey(mail);
    if (key) byIdentity.set(key, [...(byIdentity.get(key) ?? []), mail]);
  }
  const copies = copiesOf(byIdentity, input.faults, (key) => `move ${key.replaceAll('|', ' ')}`);
  for (const line of copies.different) flag('oneMailEach', line);
  return {
    byIdentity,
    delivered: byIdentity,
    refused: refusedForGood(input.refusals, moveMailKey),
    resentCopies: copies.sameAgain,
    refusedAndSaid: 0,
  };
}

/** One code mail per validator (more only as resends asked), the notices, the reminder, the end mail to all. */
function checkMoveMails(
  where: string,
  move: MoveRow,
  mails: ReturnType<typeof movesMails>,
  story: Story | undefined,
  attempts: Attempt[],
  flag: Flag,
) {
  const { byIdentity } = mails;
  // Delivered, or refused for good by the mail server while the move said so (mail-checks.ts).
  const said = namedAsRefused(move.events);
  const has = (step: string, handle: string) => {
    const outcome = mailOutcome(`${move.id}|${step}|${handle}`, mails, (h) => said.has(h), handle, step);
    if (outcome === 'refusedAndSaid') mails.refusedAndSaid += 1;
    return outcome === 'delivered' || outcome === 'refusedAndSaid';
  };
  const validators = move.validators.map((v) => v.handle);
  for (const handle of validators) {
    if (!has('created.moveCode', handle)) flag('mailsSent', `${where}: no code mail for ${handle}`);
    const codes = new Set<string>();
    for (const [key, list] of byIdentity)
      if (key.startsWith(`${move.id}|`) && key.endsWith(`|${handle}`))
        for (const mail of list) {
          const code = /#code=(\w+)/.exec(mail.text)?.[1];
          if (code) codes.add(code);
        }
    const allowed = 1 + (story ? resendsAsked(attempts, story.index, handle) : 0);
    if (codes.size > allowed)
      flag(
        'codesKept',
        `${where}: ${handle} received ${codes.size} different codes, asked for ${allowed - 1} resends`,
      );
  }
  for (const handle of move.informed)
    if (!has('created.moveInformed', handle)) flag('mailsSent', `${where}: ${handle} was not told of it`);
  const attentionKey = `${move.id}|attention.moveNeedsAttention|${move.askingAccount}`;
  // It stops waiting at the last acceptance (the apply's own start may come much later), a refusal, a cancel...
  let accepted = 0;
  const stopped = move.events.find(
    (e) =>
      (e.action === 'moveAccepted' && ++accepted === move.validators.length) ||
      ['moveRefused', 'moveCancelled', 'moveExpired', 'moveAborted'].includes(e.action),
  );
  const attention = askerAttentionOutcome({
    asker: move.askingAccount,
    mailed: byIdentity.has(attentionKey) || mails.refused.has(attentionKey),
    flags: attentionFlags(move.events),
    stoppedWaitingAt: stopped?.createdAt.getTime(),
  });
  if (attention) flag('mailsSent', `${where}: ${attention}`);
  if (!FINAL_MOVE_STATES.includes(move.state)) return;
  const everyone =
    move.state === 'aborted'
      ? [move.askingAccount]
      : [...new Set([move.askingAccount, ...validators, ...move.informed])];
  const template = move.state === 'done' ? 'moveDone' : 'moveNotDone';
  for (const handle of everyone)
    if (!has(`end.${template}`, handle)) flag('mailsSent', `${where}: no "${template}" mail for ${handle}`);
  if (move.state === 'expired')
    for (const v of move.validators)
      if (v.status === 'pending' && !has('reminder.moveReminder', v.handle))
        flag('mailsSent', `${where}: no reminder for ${v.handle}`);
}

/** Moves whose apply (moveApplying → moveApplied) overlapped a fault: the crash the chunked apply is built for. */
function appliesUnderFault(
  moves: MoveRow[],
  itemsOf: Map<number, CheckedTask[]>,
  faults: InjectedFault[],
): string[] {
  const lines: string[] = [];
  for (const { move, from, to } of applyWindows(moves)) {
    const hits = faults.filter((f) => f.startedAt <= to && f.endedAt >= from);
    if (hits.length === 0) continue;
    const applied = (itemsOf.get(move.id) ?? []).filter((item) => item.state === 'done').length;
    lines.push(
      `move ${move.id}: ${applied} items applied in ${((to - from) / 1000).toFixed(1)} s during ${hits.map((f) => `${f.kind} ${f.target}`).join(', ')}`,
    );
  }
  return lines;
}

/** Each applied move's apply, from its audit log: moveApplying to moveApplied. */
function applyWindows(moves: MoveRow[]) {
  return moves.flatMap((move) => {
    const from = move.events.find((e) => e.action === 'moveApplying')?.createdAt.getTime();
    const to = move.events.find((e) => e.action === 'moveApplied')?.createdAt.getTime();
    return from === undefined || to === undefined ? [] : [{ move, from, to }];
  });
}
