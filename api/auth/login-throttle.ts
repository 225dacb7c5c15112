import { RateLimiterPrisma, RateLimiterRes } from 'rate-limiter-flexible';
import type { Db } from '../../lib/db';
import { ApiError } from '../errors';

export interface Limit {
  limit: number;
  windowMs: number;
}

/**
 * A fixed-window counter kept in PostgreSQL (rate-limiter-flexible's Prisma store), so that every API process
 * counts against the same limit: an attacker gains nothing by landing on another process.
 *
 * The store's own clearing of expired rows is off (clearExpiredByTimeout): it is a timer started by every counter
 * built, never stopped (the store has no way to), that outlived the app and its database and logged "Failed to
 * clear expired records" through console.warn five minutes later (300 such lines in one CI log). Expired rows go
 * instead when a hit starts a new window, as expired sessions go when sessions end (endAccountSessions): the table
 * holds live counts only, without a sweeper.
 */
export class SharedCounter {
  private readonly limiter: RateLimiterPrisma;

  constructor(
    private readonly db: Db,
    name: string,
    { limit, windowMs }: Limit,
  ) {
    this.limiter = new RateLimiterPrisma({
      storeClient: db,
      tableName: 'rateLimit',
      keyPrefix: name,
      points: limit,
      duration: Math.max(1, Math.ceil(windowMs / 1000)),
      clearExpiredByTimeout: false,
    });
  }

  /** Counts one hit; false when the limit was already reached. */
  async hit(key: string): Promise<boolean> {
    let counted: RateLimiterRes;
    try {
      counted = await this.limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return false;
      throw rejection;
    }
    // Only a row the store treats as absent goes (both its reads and its increments skip an expired row).
    if (counted.isFirstInDuration)
      await this.db.rateLimit.deleteMany({ where: { expire: { lt: new Date() } } });
    return true;
  }

  async reached(key: string): Promise<boolean> {
    const state = await this.limiter.get(key);
    return state !== null && state.consumedPoints >= this.limiter.points;
  }

  async forget(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

export interface LoginLimits {
  /** Failed logins for one handle from one address. */
  perAddressAndHandle: Limit;
  /** Failed logins for one handle from every address together (a botnet guessing one password). */
  perHandle: Limit;
  /** Failed logins from one address across every handle (one machine trying many accounts). */
  perAddress: Limit;
}

/** Failed logins counted three ways; a successful login clears its (address, handle) count only. */
export class LoginThrottle {
  private readonly counters: { name: keyof LoginLimits; counter: SharedCounter }[];

  constructor(db: Db, limits: LoginLimits) {
    this.counters = (Object.keys(limits) as (keyof LoginLimits)[]).map((name) => ({
      name,
      counter: new SharedCounter(db, `login-${name}`, limits[name]),
    }));
  }

  private static keyFor(name: keyof LoginLimits, address: string, handle: string): string {
    if (name === 'perHandle') return handle;
    if (name === 'perAddress') return address;
    return `${address}|${handle}`;
  }

  /** The first limit reached, if any. */
  async blockedBy(address: string, handle: string): Promise<keyof LoginLimits | undefined> {
    for (const { name, counter } of this.counters) {
      if (await counter.reached(LoginThrottle.keyFor(name, address, handle))) return name;
    }
    return undefined;
  }

  async recordFailure(address: string, handle: string): Promise<void> {
    for (const { name, counter } of this.counters)
      await counter.hit(LoginThrottle.keyFor(name, address, handle));
  }

  async recordSuccess(address: string, handle: string): Promise<void> {
    const entry = this.counters.find((c) => c.name === 'perAddressAndHandle');
    await entry?.counter.forget(LoginThrottle.keyFor('perAddressAndHandle', address, handle));
  }
}

/**
 * Caps the password hashes computed at once (scrypt takes 32 MiB and ~100 ms of a libuv thread each): beyond
 * the cap a login is answered at once with 503 instead of queueing behind a flood and slowing every login.
 */
export class HashingSlots {
  private busy = 0;

  constructor(private readonly max: number) {}

  async run<T>(work: () => Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
    if (this.busy >= this.max) return { done: false };
    this.busy += 1;
    try {
      return { done: true, value: await work() };
    } finally {
      this.busy -= 1;
    }
  }
}

export const hashingBusy = () =>
  new ApiError(503, 'busy', 'Too many logins at this moment: try again in a moment');
