/** The ids the emulator invents, in PortOne's formats: imp_uid, access token, PG transaction, approval, account, cancellation. */
import { randomBytes, randomInt } from 'node:crypto';

const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
export const newImpUid = () => `imp_${digits(12)}`;
export const newAccessToken = () => randomBytes(20).toString('hex');
export const newPgTid = (prefix: string) => `${prefix}${digits(16)}`;
export const newApplyNum = () => digits(8);
export const newVbankNum = () => `${digits(3)}${digits(11)}`;
export const newCancellationId = () => `cancel_${randomBytes(8).toString('hex')}`;
