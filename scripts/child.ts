/**
 * When a child process (a service, nginx) has ended, however it ended: `pnpm start`, the front and
 * the bench stop their children through these. A child killed by a signal keeps `exitCode` null
 * (`signalCode` says which), and Ctrl-C in a terminal signals every process of the group at once.
 */
import type { ChildProcess } from 'node:child_process';

export const ended = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** Resolves once `child` has ended (at once if it already has). */
const exited = (child: ChildProcess): Promise<void> =>
  ended(child) ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** Sends `signal` unless `child` has already ended; resolves once it has. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!ended(child)) child.kill(signal);
  return exited(child);
}
