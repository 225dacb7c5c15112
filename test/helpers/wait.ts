/**
 * Waits for something to happen (a promise that settles on the event itself: a mail, a workflow's end), and fails
 * after timeoutMs with a message that says what did not happen. Tests wait on events this way, never on time.
 */
export async function within<T>(what: string, event: Promise<T>, timeoutMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([event, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For state that no event announces: Temporal's visibility store (what `workflow.list()` and the Temporal UI's list
 * read, updated from the run's changes asynchronously), or a log another process writes. Checks again every 100 ms
 * until `check` passes, and fails after timeoutMs with its last failure. Use `within()` wherever there is an event.
 */
export async function eventually<T>(what: string, check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
