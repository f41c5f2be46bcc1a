import type { DateTimeColumn } from './codec.ts';

/** `job_leases`: who holds a background job, and until when. */
export interface JobLeaseTable {
  name: string;
  holder: string;
  expires_at: DateTimeColumn;
  updated_at: DateTimeColumn;
}
