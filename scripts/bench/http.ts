export const PASSWORD = 'bench-password';

/** The p-th percentile (nearest rank) of the values; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function pool<T>(
  log: (line: string) => void,
  items: T[],
  concurrency: number,
  run: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  let done = 0;
  const progress = setInterval(() => log(`  … ${done}/${items.length}`), 5000);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        await run(items[index], index);
        done++;
      }
    }),
  );
  clearInterval(progress);
}

/** An answer outside 2xx, with what the API said and, where it said one, when to try again. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export class HttpSession {
  private cookie = '';
  private csrf = '';
  readonly latencies: number[];
  constructor(
    private readonly base: string,
    latencies: number[],
    /** When given, latencies are also kept per kind of call (method and route). */
    private readonly byKind?: Map<string, number[]>,
  ) {
    this.latencies = latencies;
  }
  /** One request, whatever its answer (network errors and timeouts throw). */
  async send(method: string, path: string, body?: unknown, timeoutMs = 120_000) {
    const response = await fetch(this.base + path, {
      method,
      headers: { 'content-type': 'application/json', cookie: this.cookie, 'x-csrf-token': this.csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const json: any = await response.json().catch(() => null);
    return { status: response.status, json, headers: response.headers };
  }
  /** A request that must succeed; its latency is kept. */
  async call(method: string, path: string, body?: unknown) {
    const started = performance.now();
    const { status, json, headers } = await this.send(method, path, body);
    const elapsed = performance.now() - started;
    this.latencies.push(elapsed);
    const kind = `${method} ${path.replace(/\/\d+(?=\/|$)/g, '/{id}').replace(/\/[\w-]+\.bench\//, '/{service}/')}`;
    this.byKind?.set(kind, [...(this.byKind.get(kind) ?? []), elapsed]);
    if (status < 200 || status >= 300) {
      const retryAfter = Number(headers.get('retry-after')) || undefined;
      throw new HttpError(status, `${method} ${path} -> ${status} ${JSON.stringify(json)}`, retryAfter);
    }
    return { json, headers };
  }
  /** Keeps the session of a login answer (its cookie and CSRF token). */
  adopt(headers: Headers, json: { csrfToken: string }) {
    this.cookie = (headers.get('set-cookie') ?? '').split(';')[0];
    this.csrf = json.csrfToken;
  }
  /**
   * A request as a well-behaved client sends it: a 503 with Retry-After (the API's "taken, not registered yet",
   * or the cap on concurrent password hashing, security finding 6) is sent again after that wait, since the API
   * promises the same request is not taken twice. Each attempt's latency is kept.
   */
  async callRetryingBusy(method: string, path: string, body?: unknown) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call(method, path, body);
      } catch (error) {
        const busy = error instanceof HttpError && error.status === 503 && error.retryAfterSeconds;
        if (!busy || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, error.retryAfterSeconds! * 1000));
      }
    }
  }
  async login(handle: string, password = PASSWORD) {
    const { json, headers } = await this.callRetryingBusy('POST', '/auth/login', { handle, password });
    this.adopt(headers, json);
  }
}
