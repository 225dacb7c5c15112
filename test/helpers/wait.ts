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
