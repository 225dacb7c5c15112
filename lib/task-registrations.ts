import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * The channel on which PostgreSQL announces a single task's row once it is written (by the trigger of migration
 * 20261208035300_task_registered_notify): the payload is the task's workflow id.
 */
export const TASK_REGISTERED_CHANNEL = 'task_registered';

/** A listener's own announcement, which tells it that it hears them (never a workflow id). */
const PROBE_PREFIX = 'listener-probe:';
/** How long a listener waits to hear its own announcement. */
const PROBE_MS = 5_000;

/** How long a listener that heard nothing tries again: a pooler in transaction mode stays one. */
const DEAF_RETRY_MS = 5 * 60_000;
class ListenerDeaf extends Error {}

/** How long a listener that lost its connection waits before it connects again (doubling up to the last). */
const RECONNECT_MS = [500, 1_000, 2_000, 5_000, 10_000];

/** The wait for one workflow's row: armed before the workflow starts, so that no announcement is missed. */
export interface RegistrationWait {
  /** Whether announcements are arriving: if not, whoever waits looks for the row on its own schedule. */
  readonly listening: boolean;
  /** Resolves at the next announcement for this workflow id (or at once if one came since the last call), or after ms. */
  next(ms: number): Promise<void>;
  cancel(): void;
}

export interface TaskRegistrations {
  /** Whether announcements are arriving (the connection is up and listens). */
  readonly listening: boolean;
  waitFor(workflowId: string): RegistrationWait;
  close(): Promise<void>;
}

/**
 * Listens to the announcements of new tasks' rows on one connection of its own, so that the API's answer to a
 * request waits for its row instead of looking for it every 10-100 ms (5-15 statements per request under load:
 * docs/performance.md, 2026-12-08). The connection is made again when it drops; meanwhile, and until it listens,
 * `listening` is false and the API looks for the row as before.
 */
export function listenForTaskRegistrations(
  databaseUrl: string,
  onConnectionError: (error: Error) => void = () => undefined,
): TaskRegistrations {
  const waiters = new Map<string, Set<() => void>>();
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;

  const announce = (workflowId: string) => {
    for (const wake of waiters.get(workflowId) ?? []) wake();
  };

  async function connect() {
    if (closed) return;
    const connection = new pg.Client({ connectionString: databaseUrl });
    client = connection;
    const lost = (error?: Error) => {
      if (client !== connection) return; // already replaced
      listening = false;
      client = undefined;
      if (error) onConnectionError(error);
      connection.end().catch(() => undefined);
      if (closed) return;
      const pauseMs =
        error instanceof ListenerDeaf
          ? DEAF_RETRY_MS
          : RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)];
      retry = setTimeout(() => void connect(), pauseMs);
      retry.unref();
    };
    connection.on('error', lost);
    connection.on('end', () => lost());
    const probe = `${PROBE_PREFIX}${randomUUID()}`;
    let probeHeard: (() => void) | undefined;
    connection.on('notification', ({ payload }) => {
      if (payload === probe) probeHeard?.();
      else if (payload) announce(payload);
    });
    try {
      await connection.connect();
      await connection.query(`LISTEN ${TASK_REGISTERED_CHANNEL}`);
      await heardThroughAnotherConnection(probe, (heard) => (probeHeard = heard));
      if (client !== connection) return;
      listening = true;
      failures = 0;
    } catch (error) {
      lost(error as Error);
    }
  }

  /**
   * Listening counts only once an announcement made on another connection is heard: through a pooler in
   * transaction mode, LISTEN is taken and nothing ever arrives, and every request would wait for nothing.
   */
  async function heardThroughAnotherConnection(probe: string, onHeard: (heard: () => void) => void) {
    const heard = new Promise<void>((resolve) => onHeard(resolve));
    const other = new pg.Client({ connectionString: databaseUrl });
    try {
      await other.connect();
      await other.query('SELECT pg_notify($1, $2)', [TASK_REGISTERED_CHANNEL, probe]);
    } finally {
      await other.end().catch(() => undefined);
    }
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ListenerDeaf('LISTEN hears nothing (a pooler in transaction mode?)')),
        PROBE_MS,
      );
    });
    try {
      await Promise.race([heard, silence]);
    } finally {
      clearTimeout(timer);
    }
  }
  void connect();

  return {
    get listening() {
      return listening;
    },
    waitFor(workflowId) {
      let announced = false;
      let wake: (() => void) | undefined;
      const onAnnounce = () => {
        announced = true;
        wake?.();
      };
      const set = waiters.get(workflowId) ?? new Set();
      set.add(onAnnounce);
      waiters.set(workflowId, set);
      return {
        get listening() {
          return listening;
        },
        next(ms) {
          if (announced) {
            announced = false;
            return Promise.resolve();
          }
          return new Promise<void>((resolve) => {
            const timer = setTimeout(done, ms);
            function done() {
              clearTimeout(timer);
              wake = undefined;
              announced = false;
              resolve();
            }
            wake = done;
          });
        },
        cancel() {
          set.delete(onAnnounce);
          if (set.size === 0 && waiters.get(workflowId) === set) waiters.delete(workflowId);
          wake?.();
        },
      };
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      listening = false;
      const connection = client;
      client = undefined;
      await connection?.end().catch(() => undefined);
    },
  };
}
