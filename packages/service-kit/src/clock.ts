/** Where a service reads the time (token expiry, schedules, audit stamps); tests inject their own. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** The clock's time in UNIX seconds, the unit PortOne uses everywhere. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock().getTime() / 1000);
}
