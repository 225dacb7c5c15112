import { readCodeEmail, type Mailbox, type StoredMail } from '../../lib/mailbox';
import { HttpSession } from '../bench/http';
import {
  isMoveStory,
  MOVE_STORY_KINDS,
  MOVE_STORY_MIX,
  playMove,
  type MovePlan,
  type MoveRecord,
  type MoveStoryClient,
} from './moves';
import type { Random } from './random';

/**
 * The load: customers acting through the API only, as the guide describes, each story on a service and
 * accounts of its own. Arrivals are open-loop (a Poisson process of the chosen rate): a slow or failing
 * stack does not slow the arrivals down. Every request is recorded with its answer, for the checker.
 *
 * Move stories (many services' roles at once, issue 12) are in moves.ts, checked by move-checker.ts.
 */
export const STORY_KINDS = [
  'accept',
  'wrongCodeThenAccept',
  'refuse',
  'resend',
  'correctEmailThenResend',
  'cancel',
  'expire',
  ...MOVE_STORY_KINDS,
] as const;
export type StoryKind = (typeof STORY_KINDS)[number];

export const STORY_MIX: readonly (readonly [StoryKind, number])[] = [
  ['accept', 40],
  ['wrongCodeThenAccept', 10],
  ['refuse', 10],
  ['resend', 10],
  ['correctEmailThenResend', 5],
  ['cancel', 10],
  ['expire', 15],
  ...MOVE_STORY_MIX,
];

export const PASSWORD = 'soak-password';

/** One request as the customer sent it and what came back. */
export interface Attempt {
  story: number;
  op: string;
  startedAt: number;
  endedAt: number;
  status?: number;
  retryAfter?: string | null;
  reason?: string;
  /** A network error or a timeout: no answer at all. */
  error?: string;
  /** A resend: whom it asked a fresh code for (once answered 200, whom it was sent to). */
  resendTo?: string[];
}

/** The parties of story i: its own service and accounts. */
export function storyParties(i: number) {
  return {
    service: `soak-${i}.test`,
    admin: `ad${i}-ovh`,
    tech: `te${i}-ovh`,
    newcomer: `ne${i}-ovh`,
  };
}
export const emailOf = (handle: string) => `${handle.replace('-ovh', '')}@soak.test`;
export const correctedEmailOf = (handle: string) => `${handle.replace('-ovh', '')}.new@soak.test`;

/** What a story's customers were told: the checker holds the stack to it. */
export interface Story {
  index: number;
  kind: StoryKind;
  startedAt: number;
  endedAt?: number;
  /** Every task id an answer to the change request gave (retries must all give the same). */
  taskIds: number[];
  /** Validators whose acceptance was confirmed (200 accepted, or 409 alreadyDecided after an unanswered try). */
  accepted: string[];
  refusedBy?: string;
  cancelled?: boolean;
  /** A code read from the latest mail that the API called wrong: a code that stopped working. */
  deliveredCodeRefused: string[];
  /** Answers no customer should get in this story (an unexpected 4xx), and stories given up. */
  surprises: string[];
  /** A move story's own record (moves.ts). */
  move?: MoveRecord;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

class GaveUp extends Error {}

/** What the checker must know of a request beyond its answer: a resend names whom it asks a fresh code for. */
export interface RequestOptions {
  resendTo?: string[];
}

export interface LoadSettings {
  baseUrl: string;
  mailbox: Mailbox;
  random: Random;
  rate: number;
  loadMs: number;
  resendMinIntervalMs: number;
  /** How long after the load stories may still play (past it they give up): a run ends on any stack. */
  afterLoadMs: number;
  /** The story kinds played (SOAK_STORIES), by default all of STORY_MIX. */
  storyKinds?: readonly StoryKind[];
  /** Seeds a move story's accounts and services when it starts (their number is drawn with the story). */
  seedMoveStory: (plan: MovePlan) => Promise<void>;
  log: (line: string) => void;
}

export class LoadGenerator {
  readonly attempts: Attempt[] = [];
  readonly stories: Story[] = [];
  /** Each story's asker, logged in: the checker reads the tasks through the API with them. */
  readonly askerSessions = new Map<number, HttpSession>();

  /** Past it, stories give up instead of retrying: a run ends even on a stack that cannot keep up (or is stuck). */
  private deadline = Infinity;

  private readonly mix: readonly (readonly [StoryKind, number])[];

  constructor(private readonly settings: LoadSettings) {
    const kinds = settings.storyKinds;
    this.mix = kinds ? STORY_MIX.filter(([kind]) => kinds.includes(kind)) : STORY_MIX;
  }

  /** How many stories the run may start at most (the accounts and services seeded beforehand). */
  static capacity(rate: number, loadMs: number): number {
    return Math.ceil(rate * (loadMs / 1000) * 2) + 20;
  }

  /** Starts stories at their arrival times until the load time is over; resolves once all have ended. */
  async run(loadStart: number): Promise<void> {
    const { random, rate, loadMs } = this.settings;
    const capacity = LoadGenerator.capacity(rate, loadMs);
    this.deadline = loadStart + loadMs + this.settings.afterLoadMs;
    const running: Promise<void>[] = [];
    for (let at = random.exponentialMs(rate); at < loadMs && this.stories.length < capacity;) {
      await sleep(loadStart + at - Date.now());
      const story: Story = {
        index: this.stories.length,
        kind: random.weighted(this.mix),
        startedAt: Date.now(),
        taskIds: [],
        accepted: [],
        deliveredCodeRefused: [],
        surprises: [],
      };
      this.stories.push(story);
      // Drawn now, in order, so that the run's randomness does not depend on how the stories interleave.
      const choices = {
        adminFirst: random.fraction() < 0.5,
        adminAcceptsBeforeRefusal: random.fraction() < 0.5,
        moveSeed: random.int(0, 2 ** 31 - 1),
      };
      running.push(
        this.play(story, choices)
          .catch((error: Error) => {
            story.surprises.push(
              error instanceof GaveUp ? `gave up: ${error.message}` : `failed: ${error.message}`,
            );
          })
          .finally(() => (story.endedAt = Date.now())),
      );
      at += random.exponentialMs(rate);
    }
    await Promise.all(running);
  }

  /**
   * A request as a careful client sends it: without an answer (network error, timeout) or with a 503 or
   * another 5xx, it is sent again, the same, after Retry-After (or a second), for up to three minutes.
   */
  private async request(
    story: Story,
    session: HttpSession,
    op: string,
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ) {
    const until = Math.min(Date.now() + 180_000, this.deadline);
    for (let tries = 1; ; tries++) {
      const attempt: Attempt = { story: story.index, op, startedAt: Date.now(), endedAt: 0 };
      if (options.resendTo) attempt.resendTo = options.resendTo;
      this.attempts.push(attempt);
      let wait = 1000;
      try {
        const answer = await session.send(method, path, body, 60_000);
        attempt.status = answer.status;
        attempt.retryAfter = answer.headers.get('retry-after');
        attempt.reason = answer.json?.reason;
        if (options.resendTo && answer.status === 200 && Array.isArray(answer.json?.resentTo))
          attempt.resendTo = answer.json.resentTo as string[];
        if (answer.status < 500) return { ...answer, tries };
        wait = Math.min(Number(attempt.retryAfter ?? 1) * 1000 || 1000, 10_000);
      } catch (error) {
        attempt.error = (error as Error).cause ? String((error as Error).cause) : (error as Error).message;
      } finally {
        attempt.endedAt = Date.now();
      }
      if (Date.now() + wait > until) throw new GaveUp(`${op} unanswered after ${tries} tries`);
      await sleep(wait);
    }
  }

  private async login(story: Story, handle: string) {
    const session = new HttpSession(this.settings.baseUrl, []);
    const answer = await this.request(story, session, 'login', 'POST', '/auth/login', {
      handle,
      password: PASSWORD,
    });
    if (answer.status !== 200) throw new Error(`login of ${handle}: ${answer.status} ${answer.json?.reason}`);
    session.adopt(answer.headers, answer.json);
    return session;
  }

  /**
   * The tokens of the "confirm your new address" mails sent to this address, newest first, once there is one:
   * asking again (a retried request) replaces the earlier link, and a try that failed after its mail went (a mail
   * server that took the mail but never said so) leaves a mail whose link no longer works, which may even arrive
   * last. The customer tries the links they have, newest first, as a person with two such mails would.
   */
  private async emailConfirmationTokens(address: string): Promise<string[]> {
    const isConfirmation = (m: StoredMail) => m.to[0] === address && /#confirmEmail=[\w-]+/.test(m.text);
    await this.settings.mailbox.waitFor(
      isConfirmation,
      Math.max(1000, Math.min(240_000, this.deadline - Date.now())),
    );
    const mails = this.settings.mailbox.messages().filter(isConfirmation).reverse();
    return [...new Set(mails.map((mail) => /#confirmEmail=([\w-]+)/.exec(mail.text)![1]))];
  }

  /** The newest code mailed to this address for the task, once there is one not in `seen`. */
  private async codeMail(address: string, taskId: number, seen: string[]): Promise<string> {
    const mail = await this.settings.mailbox.waitFor(
      (m) => {
        if (m.to[0] !== address || !m.text.includes(`/validate/${taskId}#code=`)) return false;
        return !seen.includes(readCodeEmail(m).code);
      },
      Math.max(1000, Math.min(240_000, this.deadline - Date.now())),
    );
    return readCodeEmail(mail).code;
  }

  /** What a move story (moves.ts) uses of this generator: its requests, logins, mailbox and seeding. */
  private moveClient(): MoveStoryClient {
    return {
      mailbox: this.settings.mailbox,
      resendMinIntervalMs: this.settings.resendMinIntervalMs,
      waitLimitMs: () => Math.max(1000, Math.min(240_000, this.deadline - Date.now())),
      login: (story, handle) => this.login(story, handle),
      request: (story, session, op, method, path, body, options) =>
        this.request(story, session, op, method, path, body, options),
      unexpected: (story, what, answer) => this.unexpected(story, what, answer),
      seed: (plan) => this.settings.seedMoveStory(plan),
      rememberAsker: (story, session) => void this.askerSessions.set(story.index, session),
      watchAttention: (story, asker, path, awaiting) =>
        void this.watchAttention(story, asker, path, awaiting),
    };
  }

  private async play(
    story: Story,
    choices: { adminFirst: boolean; adminAcceptsBeforeRefusal: boolean; moveSeed: number },
  ) {
    if (isMoveStory(story.kind)) return playMove(this.moveClient(), story, choices.moveSeed);
    const { service, admin, newcomer } = storyParties(story.index);
    const adminSession = await this.login(story, admin);
    this.askerSessions.set(story.index, adminSession);
    const newcomerSession =
      story.kind === 'expire' || story.kind === 'cancel' ? undefined : await this.login(story, newcomer);
    const asked = await this.request(
      story,
      adminSession,
      'changeContact',
      'POST',
      `/1.0/domain/${service}/changeContact`,
      {
        contactTech: newcomer,
      },
    );
    if (asked.status !== 200) {
      story.surprises.push(`changeContact answered ${asked.status} ${asked.json?.reason}`);
      return;
    }
    const taskId = asked.json[0] as number;
    story.taskIds.push(taskId);
    if (story.kind === 'expire') return; // nobody acts: the task must expire, after a reminder
    if (story.kind === 'cancel') {
      const cancelled = await this.request(
        story,
        adminSession,
        'cancel',
        'POST',
        `/1.0/me/task/contactChange/${taskId}/cancel`,
      );
      if (cancelled.status === 200) story.cancelled = true;
      else this.unexpected(story, 'cancel', cancelled);
      return;
    }
    const codes: Record<string, string[]> = { [admin]: [], [newcomer]: [] };
    // Whose code the story waits for: the asker watches the task meanwhile (watchAttention).
    const awaitingCodes = new Set<string>();
    void this.watchAttention(story, adminSession, `/1.0/me/task/contactChange/${taskId}`, awaitingCodes);
    const readCode = async (handle: string, address = emailOf(handle)) => {
      awaitingCodes.add(handle);
      try {
        const code = await this.codeMail(address, taskId, codes[handle]);
        codes[handle].push(code);
        return code;
      } finally {
        awaitingCodes.delete(handle);
      }
    };
    const [adminCode, newcomerCode] = await Promise.all([readCode(admin), readCode(newcomer)]);
    const decide = async (
      session: HttpSession,
      handle: string,
      decision: 'accept' | 'refuse',
      code: string,
    ) => {
      const answer = await this.request(
        story,
        session,
        decision,
        'POST',
        `/1.0/me/task/contactChange/${taskId}/${decision}`,
        {
          token: code,
        },
      );
      const ambiguous = answer.tries > 1; // an earlier try may have been taken
      if (answer.status === 200 || (ambiguous && answer.json?.reason === 'alreadyDecided')) {
        if (decision === 'accept') story.accepted.push(handle);
        else story.refusedBy = handle;
        return true;
      }
      if (answer.json?.reason === 'wrongCode' || answer.json?.reason === 'codeLocked')
        story.deliveredCodeRefused.push(
          `${handle} ${decision} with the code of their latest mail: ${answer.json.reason}`,
        );
      else this.unexpected(story, decision, answer);
      return false;
    };
    const adminAccepts = () => decide(adminSession, admin, 'accept', adminCode);

    switch (story.kind) {
      case 'accept':
        if (choices.adminFirst) {
          if (await adminAccepts()) await decide(newcomerSession!, newcomer, 'accept', newcomerCode);
        } else if (await decide(newcomerSession!, newcomer, 'accept', newcomerCode)) await adminAccepts();
        return;
      case 'wrongCodeThenAccept': {
        const wrong = await this.request(
          story,
          newcomerSession!,
          'accept (wrong code)',
          'POST',
          `/1.0/me/task/contactChange/${taskId}/accept`,
          {
            token: 'WRONG-CODE-0', // 0 and O are never in a code
          },
        );
        if (wrong.json?.reason !== 'wrongCode') this.unexpected(story, 'accept with a wrong code', wrong);
        if (await decide(newcomerSession!, newcomer, 'accept', newcomerCode)) await adminAccepts();
        return;
      }
      case 'refuse':
        if (choices.adminAcceptsBeforeRefusal && !(await adminAccepts())) return;
        await decide(newcomerSession!, newcomer, 'refuse', newcomerCode);
        return;
      case 'resend':
      case 'correctEmailThenResend': {
        let address = emailOf(newcomer);
        if (story.kind === 'correctEmailThenResend') {
          address = correctedEmailOf(newcomer);
          const correct = () =>
            this.request(story, newcomerSession!, 'correct email', 'PUT', '/1.0/me', { email: address });
          let changed = await correct();
          // The new address's mail server refused the confirmation for good (a mail fault): the customer, sure of
          // the address, tries again a little later, as the answer invites.
          for (let tries = 1; changed.json?.reason === 'emailRejected' && tries < 10; tries++) {
            await sleep(5000);
            changed = await correct();
          }
          if (changed.status !== 200) return this.unexpected(story, 'email correction', changed);
          // The new address takes effect once confirmed with the token mailed to it (issue 11, finding 2).
          let confirmed;
          for (const token of await this.emailConfirmationTokens(address)) {
            confirmed = await this.request(
              story,
              newcomerSession!,
              'confirm email',
              'POST',
              '/1.0/me/email/confirm',
              { token },
            );
            if (confirmed.json?.reason !== 'emailChangeNotFound') break;
          }
          // A try without an answer may have been taken (the link then no longer works): the profile tells.
          if (confirmed!.status !== 200 && confirmed!.tries > 1) {
            const me = await this.request(story, newcomerSession!, 'read profile', 'GET', '/1.0/me');
            if (me.json?.email === address) confirmed = me;
          }
          if (confirmed!.status !== 200) return this.unexpected(story, 'email confirmation', confirmed!);
        }
        await sleep(this.settings.resendMinIntervalMs + 500);
        const resent = await this.request(
          story,
          newcomerSession!,
          'resendEmail',
          'POST',
          `/1.0/me/task/contactChange/${taskId}/resendEmail`,
          undefined,
          { resendTo: [newcomer] },
        );
        // Too soon after a try that got no answer: that try was taken.
        const takenBefore = resent.tries > 1 && resent.json?.reason === 'resendTooSoon';
        if (resent.status !== 200 && !takenBefore) return this.unexpected(story, 'resend', resent);
        const freshCode = await readCode(newcomer, address);
        if (await adminAccepts()) await decide(newcomerSession!, newcomer, 'accept', freshCode);
        return;
      }
    }
  }

  /**
   * The asker's eye on the task (or the move: `path` is what the portal reads) while a code is awaited, as the
   * portal shows it. A mail the mail server refused for good (SMTP 5xx) is not sent again by the app: the task
   * shows "needs attention", naming whom, and waits. The asker then asks a fresh code for those still waiting for
   * theirs (as the portal offers), and again if that one is refused too (a new "needs attention"). Runs until the
   * story ends.
   */
  private async watchAttention(story: Story, asker: HttpSession, path: string, awaiting: Set<string>) {
    let handled = '';
    while (story.endedAt === undefined && Date.now() < this.deadline) {
      await sleep(awaiting.size === 0 ? 1000 : 3000);
      if (awaiting.size === 0) continue;
      try {
        const shown = await this.request(story, asker, 'read needs attention', 'GET', path);
        const attention = shown.json?.needsAttention as { handles: string[]; since: string } | undefined;
        // A task says whether it is open; a move waits for decisions while it is `todo`.
        const open = shown.json?.open ?? shown.json?.state === 'todo';
        if (shown.status !== 200 || !attention || !open) continue;
        const to = attention.handles.filter(
          (handle) => awaiting.has(handle) && (shown.json.canResendTo as string[]).includes(handle),
        );
        const seen = `${attention.since} ${to.join(',')}`;
        if (to.length === 0 || seen === handled) continue;
        const resent = await this.request(
          story,
          asker,
          'resendEmail (needs attention)',
          'POST',
          `${path}/resendEmail`,
          { to },
          { resendTo: to },
        );
        if (resent.status === 200 && resent.json.notYet.length === 0) handled = seen;
        else if (resent.json?.reason !== 'resendTooSoon' && resent.status !== 200)
          this.unexpected(story, 'resend after "needs attention"', resent);
      } catch {
        // given up (the run's deadline): the story's own wait gives up too, and says so
      }
    }
  }

  /** A definite answer this story did not expect; 409s that say the task closed meanwhile are fine. */
  private unexpected(
    story: Story,
    what: string,
    answer: { status: number; json: { reason?: string } | null },
  ) {
    const reason = answer.json?.reason;
    if (answer.status === 409 && (reason === 'taskNotOpen' || reason === 'notAwaitingDecisions')) return;
    story.surprises.push(`${what} answered ${answer.status} ${reason}`);
  }
}
