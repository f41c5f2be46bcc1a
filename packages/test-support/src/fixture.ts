import { afterAll, beforeAll, beforeEach } from 'vitest';

/** Something a test file starts once, may reset between tests, and must close. */
export interface Fixture {
  start(): Promise<unknown>;
  close(): Promise<unknown>;
  /** Run before each test, when given. */
  reset?(): Promise<unknown>;
}

/**
 * Registers a fixture's whole lifecycle with the test file that calls it, so no file repeats the
 * setup/teardown block or forgets the teardown (as fastify/demo's `build(t)` registers its own
 * `t.after(close)`): `start` before the file's tests, `reset` before each, `close` after them all.
 * Call it at the top level of a file or a `describe`; it answers the fixture itself.
 */
export function useFixture<T extends Fixture>(fixture: T): T {
  beforeAll(() => fixture.start());
  afterAll(() => fixture.close());
  if (fixture.reset) beforeEach(() => fixture.reset?.());
  return fixture;
}
