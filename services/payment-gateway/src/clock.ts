/** Where the gateway reads the time (vbank due dates, schedule windows); tests inject their own. */
export interface Clock {
  /** Current time in UNIX seconds, the unit PortOne uses everywhere. */
  nowSeconds(): number;
}

export const systemClock: Clock = { nowSeconds: () => Math.floor(Date.now() / 1000) };
