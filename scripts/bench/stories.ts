import { hashPassword } from '../../api/auth/passwords';
import { readCodeEmail } from '../../lib/mailbox';
import { HttpError, HttpSession, pool, PASSWORD } from './http';
import type { BenchStack } from './stack';

/**
 * One contact-change story: the admin replaces the technical contact with a newcomer, the validator opens the
 * task, both accept with the code their mail carries, the change is applied. Each phase of the bench has its
 * own accounts and services, named by two-letter prefixes (handles are two letters, digits, "-ovh").
 */
export interface StoryCast {
  admin: string;
  tech: string;
  newbie: string;
  service: string;
}

export const CLOSED_LOOP_CAST: StoryCast = { admin: 'ad', tech: 'te', newbie: 'ne', service: 'story' };
export const OPEN_LOOP_CAST: StoryCast = { admin: 'oa', tech: 'ot', newbie: 'on', service: 'open' };
const BILLING = 'bi0';

export interface StorySession {
  admin: HttpSession;
  newbie: HttpSession;
}

/** Latencies of one phase: every API call, per kind of call, and last acceptance sent -> change applied. */
export class StoryLatencies {
  readonly api: number[] = [];
  readonly byKind = new Map<string, number[]>();
  readonly apply: number[] = [];
  of(kind: 'changeContact' | 'accept' | 'get task'): number[] {
    const route = {
      changeContact: 'POST /1.0/domain/{service}/changeContact',
      accept: 'POST /1.0/me/task/contactChange/{id}/accept',
      'get task': 'GET /1.0/me/task/contactChange/{id}',
    }[kind];
    return this.byKind.get(route) ?? [];
  }
  clear() {
    this.api.length = 0;
    this.byKind.clear();
    this.apply.length = 0;
  }
}

/** Accounts and services of stories from..from+count-1 (a data folder kept between runs has earlier ones). */
export async function seedStories(stack: BenchStack, cast: StoryCast, count: number, from = 0) {
  const passwordHash = await hashPassword(PASSWORD);
  const accounts = [];
  for (let i = from; i < from + count; i++) {
    for (const who of [cast.admin, cast.tech, cast.newbie]) {
      accounts.push({ handle: `${who}${i}-ovh`, email: `${who}${i}@bench.test`, passwordHash });
    }
  }
  await stack.db.account.createMany({ data: accounts });
  await stack.db.account.upsert({
    where: { handle: `${BILLING}-ovh` },
    create: { handle: `${BILLING}-ovh`, email: `${BILLING}@bench.test`, passwordHash },
    update: {},
  });
  const ids = new Map(
    (await stack.db.account.findMany({ select: { id: true, handle: true } })).map((a) => [a.handle, a.id]),
  );
  await stack.db.service.createMany({
    data: Array.from({ length: count }, (_, k) => from + k).map((i) => ({
      name: `${cast.service}-${i}.bench`,
      type: 'domain',
      adminId: ids.get(`${cast.admin}${i}-ovh`)!,
      techId: ids.get(`${cast.tech}${i}-ovh`)!,
      billingId: ids.get(`${BILLING}-ovh`)!,
    })),
  });
}

/** Logging in (scrypt, deliberately slow) is not part of a story: sessions are opened before the clock starts. */
export async function openSessions(
  stack: BenchStack,
  log: (line: string) => void,
  cast: StoryCast,
  stories: number[],
  latencies: StoryLatencies,
): Promise<StorySession[]> {
  const sessions: StorySession[] = [];
  await pool(log, stories, 4, async (i) => {
    const admin = new HttpSession(stack.baseUrl, latencies.api, latencies.byKind);
    const newbie = new HttpSession(stack.baseUrl, latencies.api, latencies.byKind);
    await admin.login(`${cast.admin}${i}-ovh`);
    await newbie.login(`${cast.newbie}${i}-ovh`);
    sessions[i] = { admin, newbie };
  });
  latencies.clear();
  return sessions;
}

/**
 * An accept as a well-behaved client sends it: a 503 (the Temporal server not answering in time, on a saturated
 * machine) is sent again after its Retry-After; if the first one was taken after all, the retry's 409
 * alreadyDecided says so.
 */
async function accept(session: HttpSession, id: number, token: string) {
  const path = `/1.0/me/task/contactChange/${id}/accept`;
  try {
    await session.call('POST', path, { token });
  } catch (error) {
    if (!(error instanceof HttpError && error.status === 503)) throw error;
    await new Promise((resolve) => setTimeout(resolve, (error.retryAfterSeconds ?? 1) * 1000));
    await session.callRetryingBusy('POST', path, { token }).catch((retried: unknown) => {
      if (!(
        retried instanceof HttpError &&
        retried.status === 409 &&
        retried.message.includes('alreadyDecided')
      ))
        throw retried;
    });
  }
}

export async function runStory(
  stack: BenchStack,
  cast: StoryCast,
  { admin, newbie }: StorySession,
  i: number,
  latencies: StoryLatencies,
) {
  const [id] = (
    await admin.callRetryingBusy('POST', `/1.0/domain/${cast.service}-${i}.bench/changeContact`, {
      contactTech: `${cast.newbie}${i}-ovh`,
    })
  ).json;
  const codeOf = (who: string) =>
    stack.mailbox
      .waitFor((m) => m.to[0] === `${who}${i}@bench.test` && m.text.includes(`/validate/${id}#`), 60_000)
      .then(readCodeEmail);
  const [adminCode, newbieCode] = await Promise.all([codeOf(cast.admin), codeOf(cast.newbie)]);
  // What the portal does when a validator follows the mail's link: it shows the task before Confirm.
  await newbie.call('GET', `/1.0/me/task/contactChange/${id}`);
  await accept(admin, id, adminCode.code);
  // Measured from the moment the last acceptance is sent: the change may land before its answer is back.
  const lastAccept = Date.now();
  await accept(newbie, id, newbieCode.code);
  await stack.mailbox.waitFor(
    (m) => m.to[0] === `${cast.newbie}${i}@bench.test` && m.subject.includes('done'),
    60_000,
  );
  // The apply transaction stamps dateDone with the worker's clock, the same machine's clock as Date.now().
  const { dateDone } = await stack.db.contactChangeTask.findUniqueOrThrow({ where: { id } });
  latencies.apply.push(dateDone!.getTime() - lastAccept);
}
