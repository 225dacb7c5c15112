import { hashPassword } from '../../api/auth/passwords';
import type { Db } from '../../lib/db';
import { readCodeEmail, type Mailbox } from '../../lib/mailbox';
import type { HttpSession } from '../bench/http';
import type { RequestOptions, Story } from './load';
import { Random } from './random';

/**
 * Move stories (issue 12 in the soak's load): an account holding roles on several services moves one or more of
 * them to another account through the API only, as the guide and the portal do: a dry run, the move, then each
 * validator reads the one code of their one mail and accepts (some leaving services out), refuses, resends, or
 * lets it expire; the asker may cancel; some moves collide with a single task on the same (service, role). The
 * checker's move section (move-checker.ts) holds the stack to what these customers were told.
 */
export const MOVE_STORY_KINDS = [
  'moveAccept',
  'moveRefuse',
  'moveCancel',
  'moveResend',
  'moveExpire',
  'moveCollide',
] as const;
export type MoveStoryKind = (typeof MOVE_STORY_KINDS)[number];

export const MOVE_STORY_MIX: readonly (readonly [MoveStoryKind, number])[] = [
  ['moveAccept', 10],
  ['moveRefuse', 3],
  ['moveCancel', 3],
  ['moveResend', 3],
  ['moveExpire', 3],
  ['moveCollide', 3],
];

export const isMoveStory = (kind: string): kind is MoveStoryKind =>
  (MOVE_STORY_KINDS as readonly string[]).includes(kind);

export type MoveRole = 'admin' | 'tech' | 'billing';
/** The roles' column names as the read model keeps them (contact_types). */
export const ROLE_COLUMNS: Record<MoveRole, string> = {
  admin: 'contactAdmin',
  tech: 'contactTech',
  billing: 'contactBilling',
};

/** The parties of move story i: the mover (admin and billing of every service, tech of some), a tech, a newcomer. */
export function moveParties(i: number) {
  return {
    mover: `mv${i}-ovh`,
    techHolder: `mt${i}-ovh`,
    newcomer: `mn${i}-ovh`,
    /** Each of the story's services' names: `mv<i>-` picks exactly them. */
    nameFilter: `mv${i}-`,
    service: (k: number) => `mv${i}-${k}.test`,
  };
}

type Who = 'mover' | 'newcomer';

/** Everything a move story will do, drawn from its own seed: the same seed plays the same story. */
export interface MovePlan {
  index: number;
  kind: MoveStoryKind;
  services: { name: string; techByMover: boolean }[];
  languages: ('es' | 'en' | 'fr')[];
  roles: MoveRole[];
  /** The tech holder's tech role moves (the mover, their admin, asks): they are only told. */
  fromTechHolder: boolean;
  byFilter: boolean;
  firstDecider: Who;
  /** Who leaves services out when accepting, and how many (moveAccept). */
  excluder?: Who;
  excludeCount: number;
  refuser: Who;
  /** The other validator accepts before the refusal (moveRefuse), the newcomer before the cancel (moveCancel). */
  acceptFirst: boolean;
  /** moveExpire: one validator accepts, the other never does. */
  oneAccepts?: Who;
  /** moveCollide: a single task on service 3 asked at the same moment as the move: exactly one gets the role. */
  race: boolean;
}

const ROLE_SETS: MoveRole[][] = [
  ['tech'],
  ['admin'],
  ['billing'],
  ['admin', 'tech'],
  ['tech', 'billing'],
  ['admin', 'tech', 'billing'],
];

export function drawMovePlan(kind: MoveStoryKind, index: number, seed: number): MovePlan {
  const random = new Random(seed);
  const parties = moveParties(index);
  // Some moves are big enough that their apply (MOVE_APPLY_CHUNK_SIZE items per transaction) takes seconds:
  // long enough for a fault to land in the middle of it.
  const big = kind === 'moveAccept' && random.fraction() < 0.25;
  const collide = kind === 'moveCollide';
  const count = big ? random.int(120, 250) : random.int(collide ? 4 : 3, 20);
  const services = Array.from({ length: count }, (_, k) => ({
    name: parties.service(k),
    // Service 0's tech is the mover's, service 2's the tech holder's: each kind of move has something to move.
    // A collision needs the mover's tech on services 0, 1 and 3 (a single task before the move, one after,
    // and one asked at the same moment as the move).
    techByMover: k === 0 || ((k === 1 || k === 3) && collide) || (k > 2 && random.fraction() < 0.5),
  }));
  const fromTechHolder = !collide && random.fraction() < 0.25;
  const roles: MoveRole[] = fromTechHolder
    ? ['tech']
    : collide
      ? random.pick([['tech'], ['admin', 'tech']] as MoveRole[][])
      : random.pick(ROLE_SETS);
  const who = (): Who => (random.fraction() < 0.5 ? 'mover' : 'newcomer');
  return {
    index,
    kind,
    services,
    languages: [0, 1, 2].map(() => random.pick(['es', 'en', 'fr'] as const)),
    roles,
    fromTechHolder,
    byFilter: random.fraction() < 0.5,
    firstDecider: who(),
    excluder: kind === 'moveAccept' && random.fraction() < 0.5 ? who() : undefined,
    excludeCount: random.int(1, 3),
    refuser: who(),
    acceptFirst: random.fraction() < 0.5,
    oneAccepts: kind === 'moveExpire' && random.fraction() < 0.5 ? who() : undefined,
    race: collide && random.fraction() < 0.5,
  };
}

/** What a move story's customers asked and were told: the checker holds the stack to it. */
export interface MoveRecord {
  plan: MovePlan;
  fromAccount: string;
  /** The dry run's answer: the services it called movable, and the others' reasons. */
  dryRunMovable?: string[];
  dryRunReasons: Record<string, string>;
  /** Every move id an answer to the create gave (its retries must all give the same). */
  moveIds: number[];
  /** A create retried after a try without an answer that then answered no move (it did not converge). */
  createRetryLost?: string;
  /** Services each validator left out, as their confirmed acceptance said. */
  excluded: Record<string, string[]>;
  /** moveCollide: the single task asked before the move (then cancelled), and the answers of the collisions. */
  collision?: {
    singleTaskIds: number[];
    singleCancelled: boolean;
    /** What the dry run said of the single task's service (taskAlreadyOpen expected). */
    dryRunReason?: string;
    /** The single task asked on a service the move holds: 409 taskAlreadyOpen expected, nothing created. */
    singleOnMoveItem?: { status: number; reason?: string; taskId?: number };
    /** The single task asked at the same moment as the move, on this service: its answer. */
    race?: { service: string; status: number; reason?: string };
  };
}

/** The services, accounts and answers a move story needs from the load generator (load.ts). */
export interface MoveStoryClient {
  mailbox: Mailbox;
  resendMinIntervalMs: number;
  /** How long a story may still wait for a mail. */
  waitLimitMs(): number;
  login(story: Story, handle: string): Promise<HttpSession>;
  request(
    story: Story,
    session: HttpSession,
    op: string,
    method: string,
    path: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<{ status: number; json: any; tries: number }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  unexpected(story: Story, what: string, answer: { status: number; json: { reason?: string } | null }): void;
  /** Seeds the story's accounts and services (setup, not a customer's action). */
  seed(plan: MovePlan): Promise<void>;
  /** The asker's session: the checker reads the move through the API as they do. */
  rememberAsker(story: Story, session: HttpSession): void;
  /**
   * The asker reads the move (at `path`) while someone in `awaiting` waits for a code, and asks a fresh code for
   * them when it says "needs attention" for them (a code mail refused for good), as for a single task (load.ts).
   */
  watchAttention(story: Story, asker: HttpSession, path: string, awaiting: Set<string>): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function playMove(client: MoveStoryClient, story: Story, seed: number): Promise<void> {
  const plan = drawMovePlan(story.kind as MoveStoryKind, story.index, seed);
  const parties = moveParties(story.index);
  const record: MoveRecord = {
    plan,
    fromAccount: plan.fromTechHolder ? parties.techHolder : parties.mover,
    dryRunReasons: {},
    moveIds: [],
    excluded: {},
  };
  story.move = record;
  await client.seed(plan);
  const mover = await client.login(story, parties.mover);
  client.rememberAsker(story, mover);
  const newcomer = await client.login(story, parties.newcomer);
  const sessions: Record<Who, HttpSession> = { mover, newcomer };
  const handles: Record<Who, string> = { mover: parties.mover, newcomer: parties.newcomer };
  const [s0, s1] = [plan.services[0].name, plan.services[1].name];

  if (plan.kind === 'moveCollide') {
    record.collision = { singleTaskIds: [], singleCancelled: false };
    const single = await askSingleTech(client, story, mover, s0, parties.techHolder);
    if (single.status !== 200) return client.unexpected(story, 'single task before the move', single);
    record.collision.singleTaskIds.push(single.json[0]);
  }

  const selection = plan.byFilter
    ? { filter: { nameContains: parties.nameFilter } }
    : { services: plan.services.map((s) => s.name) };
  const body = {
    ...(plan.fromTechHolder ? { fromAccount: parties.techHolder } : {}),
    toAccount: parties.newcomer,
    contactTypes: plan.roles,
    ...selection,
  };
  const dry = await client.request(story, mover, 'move dry run', 'POST', '/1.0/me/contactMove', {
    ...body,
    dryRun: true,
  });
  if (dry.status !== 200) return client.unexpected(story, 'move dry run', dry);
  const dryItems = dry.json.items as { serviceName: string; movable: boolean; reason?: string }[];
  record.dryRunMovable = dryItems.filter((item) => item.movable).map((item) => item.serviceName);
  for (const item of dryItems) if (!item.movable) record.dryRunReasons[item.serviceName] = item.reason ?? '?';
  if (record.collision) record.collision.dryRunReason = record.dryRunReasons[s0] ?? 'movable';

  const s3 = plan.race ? plan.services[3].name : undefined;
  const [created, raced] = await Promise.all([
    client.request(story, mover, 'move create', 'POST', '/1.0/me/contactMove', body),
    s3 ? askSingleTech(client, story, mover, s3, parties.techHolder) : undefined,
  ]);
  if (raced && record.collision) {
    record.collision.race = { service: s3!, status: raced.status, reason: raced.json?.reason };
    if (raced.status === 200) record.collision.singleTaskIds.push(raced.json[0]);
  }
  if (created.status !== 201 && created.status !== 202) {
    // An earlier try may have made the move: the retry should have answered it (the checker's `converged`).
    if (created.tries > 1)
      record.createRetryLost = `${created.status} ${created.json?.reason} after ${created.tries} tries`;
    else client.unexpected(story, 'move create', created);
    return;
  }
  const moveId = created.json.id as number;
  record.moveIds.push(moveId);
  if (created.status === 202 && !(await untilRecorded(client, story, mover, moveId))) return;

  if (record.collision) {
    // The other way round: a single task on a (service, role) the move holds is refused, and creates nothing.
    const refused = await askSingleTech(client, story, mover, s1, parties.techHolder);
    record.collision.singleOnMoveItem = {
      status: refused.status,
      reason: refused.json?.reason,
      ...(refused.status === 200 ? { taskId: refused.json[0] } : {}),
    };
    if (refused.status === 200) record.collision.singleTaskIds.push(refused.json[0]);
    // The single tasks end (cancelled by their asker), as the story's customer would tidy up.
    let cancelled = true;
    for (const taskId of record.collision.singleTaskIds) {
      const answer = await client.request(
        story,
        mover,
        'cancel single task',
        'POST',
        `/1.0/me/task/contactChange/${taskId}/cancel`,
      );
      if (answer.status !== 200) {
        cancelled = false;
        client.unexpected(story, 'cancel of the single task', answer);
      }
    }
    record.collision.singleCancelled = cancelled;
  }

  if (plan.kind === 'moveExpire' && !plan.oneAccepts) return; // nobody acts: the move expires after its reminder
  if (plan.kind === 'moveCancel' && !plan.acceptFirst) return cancelMove(client, story, mover, moveId);

  const seen: Record<Who, string[]> = { mover: [], newcomer: [] };
  // Whose code the story waits for: the asker watches the move meanwhile, as the portal shows it.
  const awaitingCodes = new Set<string>();
  client.watchAttention(story, mover, `/1.0/me/contactMove/${moveId}`, awaitingCodes);
  const readCode = async (who: Who) => {
    awaitingCodes.add(handles[who]);
    try {
      const code = await moveCodeMail(client, handles[who], moveId, seen[who]);
      seen[who].push(code);
      return code;
    } finally {
      awaitingCodes.delete(handles[who]);
    }
  };
  const codes: Record<Who, string> = { mover: '', newcomer: '' };
  [codes.mover, codes.newcomer] = await Promise.all([readCode('mover'), readCode('newcomer')]);
  const decide = (who: Who, decision: 'accept' | 'refuse', exclude: string[] = []) =>
    decideMove(client, story, sessions[who], handles[who], moveId, decision, codes[who], exclude);
  const other = (who: Who): Who => (who === 'mover' ? 'newcomer' : 'mover');

  switch (plan.kind) {
    case 'moveAccept': {
      const first = plan.firstDecider;
      const leftOut = async (who: Who) =>
        plan.excluder === who ? await servicesToLeaveOut(client, story, sessions[who], moveId, plan) : [];
      if (await decide(first, 'accept', await leftOut(first)))
        await decide(other(first), 'accept', await leftOut(other(first)));
      return;
    }
    case 'moveRefuse':
      if (plan.acceptFirst && !(await decide(other(plan.refuser), 'accept'))) return;
      await decide(plan.refuser, 'refuse');
      return;
    case 'moveCancel':
      if (await decide('newcomer', 'accept')) await cancelMove(client, story, mover, moveId);
      return;
    case 'moveExpire':
      await decide(plan.oneAccepts!, 'accept');
      return;
    case 'moveResend': {
      await sleep(client.resendMinIntervalMs + 500);
      const resent = await client.request(
        story,
        newcomer,
        'move resendEmail',
        'POST',
        `/1.0/me/contactMove/${moveId}/resendEmail`,
        {},
        { resendTo: [parties.newcomer] },
      );
      const takenBefore = resent.tries > 1 && resent.json?.reason === 'resendTooSoon';
      if (closedMeanwhile(resent)) return;
      if (resent.status !== 200 && !takenBefore) return client.unexpected(story, 'move resend', resent);
      codes.newcomer = await readCode('newcomer');
      if (await decide('mover', 'accept')) await decide('newcomer', 'accept');
      return;
    }
    case 'moveCollide':
      if (await decide('newcomer', 'accept')) await decide('mover', 'accept');
      return;
  }
}

function askSingleTech(
  client: MoveStoryClient,
  story: Story,
  session: HttpSession,
  service: string,
  to: string,
) {
  return client.request(story, session, 'changeContact', 'POST', `/1.0/domain/${service}/changeContact`, {
    contactTech: to,
  });
}

/** A move answered 202 (still recording its items): polled until it is, as the guide says. */
async function untilRecorded(client: MoveStoryClient, story: Story, session: HttpSession, moveId: number) {
  for (let tries = 0; tries < 60; tries++) {
    const answer = await client.request(story, session, 'move get', 'GET', `/1.0/me/contactMove/${moveId}`);
    if (answer.status === 200 && answer.json.state !== 'checking') return true;
    if (answer.status !== 200 && answer.status !== 404) {
      client.unexpected(story, 'move get', answer);
      return false;
    }
    await sleep(1000);
  }
  story.surprises.push(`move ${moveId} still checking after a minute`);
  return false;
}

async function cancelMove(client: MoveStoryClient, story: Story, session: HttpSession, moveId: number) {
  const answer = await client.request(
    story,
    session,
    'move cancel',
    'POST',
    `/1.0/me/contactMove/${moveId}/cancel`,
  );
  if (answer.status === 200 || (answer.tries > 1 && answer.json?.reason === 'moveNotOpen'))
    story.cancelled = true;
  else if (!closedMeanwhile(answer)) client.unexpected(story, 'move cancel', answer);
}

/** The newest move code mailed to this person, once there is one not in `seen`. */
async function moveCodeMail(client: MoveStoryClient, handle: string, moveId: number, seen: string[]) {
  const address = `${handle.replace('-ovh', '')}@soak.test`;
  const mail = await client.mailbox.waitFor((m) => {
    if (m.to[0] !== address || !m.text.includes(`/validate-move/${moveId}#code=`)) return false;
    return !seen.includes(readCodeEmail(m).code);
  }, client.waitLimitMs());
  return readCodeEmail(mail).code;
}

/** Services a validator leaves out, as the validation page offers them: some of the items waiting for them. */
async function servicesToLeaveOut(
  client: MoveStoryClient,
  story: Story,
  session: HttpSession,
  moveId: number,
  plan: MovePlan,
): Promise<string[]> {
  const answer = await client.request(
    story,
    session,
    'move items',
    'GET',
    `/1.0/me/contactMove/${moveId}/item?state=validatingByCustomers&limit=1000`,
  );
  if (answer.status !== 200) {
    client.unexpected(story, 'move items', answer);
    return [];
  }
  const names = (answer.json.items as { serviceName: string }[]).map((item) => item.serviceName);
  // Leave at least one service in: the move still has something to apply (the others' items end refused).
  return names.slice(0, Math.min(plan.excludeCount, names.length - 1));
}

/**
 * The move ended before this customer acted (it expired while they waited for a mail held by a fault, say): the
 * guide's answer, not a surprise; the checker holds the move to whatever it was told before.
 */
const closedMeanwhile = (answer: { status: number; json: { reason?: string } | null }) =>
  answer.status === 409 && ['moveNotOpen', 'notAwaitingDecisions'].includes(answer.json?.reason ?? '');

async function decideMove(
  client: MoveStoryClient,
  story: Story,
  session: HttpSession,
  handle: string,
  moveId: number,
  decision: 'accept' | 'refuse',
  code: string,
  exclude: string[],
): Promise<boolean> {
  const answer = await client.request(
    story,
    session,
    `move ${decision}`,
    'POST',
    `/1.0/me/contactMove/${moveId}/${decision}`,
    { token: code, ...(exclude.length ? { exclude } : {}) },
  );
  // An earlier try that got no answer may have been taken: the move then says so.
  const takenBefore =
    answer.tries > 1 &&
    ['alreadyDecided', 'notAwaitingDecisions', 'moveNotOpen'].includes(answer.json?.reason);
  if (answer.status === 200 || takenBefore) {
    if (decision === 'accept') {
      story.accepted.push(handle);
      if (exclude.length) story.move!.excluded[handle] = exclude;
    } else story.refusedBy = handle;
    return true;
  }
  if (answer.json?.reason === 'wrongCode' || answer.json?.reason === 'codeLocked')
    story.deliveredCodeRefused.push(
      `${handle} ${decision} move ${moveId} with the code of their latest mail: ${answer.json.reason}`,
    );
  else if (!closedMeanwhile(answer)) client.unexpected(story, `move ${decision}`, answer);
  return false;
}

/** A move story's accounts and services, in the database before its customers act (on a fault, tried again). */
export async function seedMoveStory(db: Db, plan: MovePlan, passwordHash: string): Promise<void> {
  const parties = moveParties(plan.index);
  const handles = [parties.mover, parties.techHolder, parties.newcomer];
  for (let tries = 1; ; tries++) {
    try {
      await db.$transaction(async (tx) => {
        await tx.account.createMany({
          data: handles.map((handle, k) => ({
            handle,
            email: `${handle.replace('-ovh', '')}@soak.test`,
            language: plan.languages[k],
            passwordHash,
          })),
          skipDuplicates: true,
        });
        const ids = new Map(
          (
            await tx.account.findMany({
              where: { handle: { in: handles } },
              select: { id: true, handle: true },
            })
          ).map((a) => [a.handle, a.id]),
        );
        await tx.service.createMany({
          data: plan.services.map((service) => ({
            name: service.name,
            type: 'domain',
            adminId: ids.get(parties.mover)!,
            techId: ids.get(service.techByMover ? parties.mover : parties.techHolder)!,
            billingId: ids.get(parties.mover)!,
          })),
          skipDuplicates: true,
        });
      });
      return;
    } catch (error) {
      // The soak's PostgreSQL may be stopped by a fault for a few seconds.
      if (tries >= 60) throw error;
      await sleep(1000);
    }
  }
}

let passwordHash: Promise<string> | undefined;
/** The password every soak account has, hashed once. */
export const soakPasswordHash = (password: string) => (passwordHash ??= hashPassword(password));
