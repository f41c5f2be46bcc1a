/**
 * Polls `check` until it neither throws nor answers `false`, and answers what it answered: an
 * assertion (`() => expect(x).toBe(0)`) and a condition (`async () => rows.length > 0 && rows`) both
 * work. When the time is up the last assertion error is thrown, or one saying the condition stayed false.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  intervalMs = 50,
): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const value = await check();
      if (value !== false) return value as Exclude<T, false>;
      failure = new Error(`condition not met in ${timeoutMs} ms`);
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline) throw failure;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
