import type { EngineBody } from './body.ts';

/** The part of Docker's stats JSON we read (cgroup v1 and v2 differ in memory_stats.stats). */
interface RawStats {
  read?: string;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
}

interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export interface StatsSnapshot {
  read: string | null;
  cpu: { percent: number; onlineCpus: number };
  memory: { usage: number; limit: number; percent: number };
  network: { rxBytes: number; txBytes: number };
  blockIo: { readBytes: number; writeBytes: number };
  pids: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * The numbers `docker stats` shows, computed the way the CLI does: CPU % from the deltas between
 * this sample and the previous one, memory without the page cache (inactive_file on cgroup v2,
 * total_inactive_file or cache on v1).
 */
export function computeStats(raw: RawStats): StatsSnapshot {
  const cpu = raw.cpu_stats ?? {};
  const pre = raw.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const onlineCpus = cpu.online_cpus ?? cpu.cpu_usage?.percpu_usage?.length ?? 1;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0;

  const mem = raw.memory_stats ?? {};
  const s = mem.stats ?? {};
  const cache = s.inactive_file ?? s.total_inactive_file ?? s.cache ?? 0;
  const usage = Math.max(0, (mem.usage ?? 0) - cache);
  const limit = mem.limit ?? 0;

  let rxBytes = 0;
  let txBytes = 0;
  for (const n of Object.values(raw.networks ?? {})) {
    rxBytes += n.rx_bytes ?? 0;
    txBytes += n.tx_bytes ?? 0;
  }
  let readBytes = 0;
  let writeBytes = 0;
  for (const entry of raw.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = entry.op.toLowerCase();
    if (op === 'read') readBytes += entry.value;
    else if (op === 'write') writeBytes += entry.value;
  }
  return {
    // A stopped container reports the zero time.
    read: raw.read && !raw.read.startsWith('0001-') ? raw.read : null,
    cpu: { percent: round2(cpuPercent), onlineCpus },
    memory: { usage, limit, percent: limit > 0 ? round2((usage / limit) * 100) : 0 },
    network: { rxBytes, txBytes },
    blockIo: { readBytes, writeBytes },
    pids: raw.pids_stats?.current ?? 0,
  };
}

/** Docker streams stats as one JSON document per line. */
export async function* statsSnapshots(source: EngineBody): AsyncGenerator<StatsSnapshot> {
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunks of source) {
    for (const chunk of chunks) buffered += decoder.decode(chunk, { stream: true });
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield computeStats(JSON.parse(line) as RawStats);
      nl = buffered.indexOf('\n');
    }
  }
  if (buffered.trim()) yield computeStats(JSON.parse(buffered) as RawStats);
}
