import { describe, expect, it } from 'vitest';
import { logLineBatches } from '../../src/docker/logs.ts';
import { containerIdFromProc } from '../../src/docker/self.ts';
import { computeStats } from '../../src/docker/stats.ts';

const frame = (stream: 1 | 2, text: string) => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

async function collect(chunks: Buffer[], tty = false, timestamps = false) {
  const out = [];
  // One engine read per chunk, as the engine stream hands them over.
  const reads = (async function* () {
    for (const chunk of chunks) yield [chunk];
  })();
  for await (const batch of logLineBatches(reads, { tty, timestamps })) out.push(...batch);
  return out;
}

describe('log demultiplexing', () => {
  it('splits frames into lines per stream, across chunk and frame boundaries', async () => {
    const bytes = Buffer.concat([frame(1, 'hel'), frame(2, 'oops\n'), frame(1, 'lo\nwor'), frame(1, 'ld\n')]);
    const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 17), bytes.subarray(17)];
    expect(await collect(chunks)).toEqual([
      { stream: 'stderr', line: 'oops' },
      { stream: 'stdout', line: 'hello' },
      { stream: 'stdout', line: 'world' },
    ]);
  });

  it('keeps multi-byte characters split across frames and reads timestamps', async () => {
    const euro = Buffer.from('2026-01-01T00:00:00.000000001Z 가격 €\n');
    const header = Buffer.alloc(8);
    header[0] = 1;
    header.writeUInt32BE(euro.length, 4);
    // Cut inside the 3-byte '가' so one chunk ends mid-character.
    const whole = Buffer.concat([header, euro]);
    const lines = await collect([whole.subarray(0, 40), whole.subarray(40)], false, true);
    expect(lines).toEqual([{ stream: 'stdout', line: '가격 €', ts: '2026-01-01T00:00:00.000000001Z' }]);
  });

  it('reads TTY output raw and flushes a last line without newline', async () => {
    expect(await collect([Buffer.from('a\r\nb')], true)).toEqual([
      { stream: 'stdout', line: 'a' },
      { stream: 'stdout', line: 'b' },
    ]);
  });
});

describe('stats', () => {
  it('computes CPU %, memory without cache, network and block I/O like the CLI', () => {
    const s = computeStats({
      read: '2026-01-01T00:00:01Z',
      cpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 10_000_000_000 },
      memory_stats: { usage: 150 * 1024 * 1024, limit: 1024 * 1024 * 1024, stats: { inactive_file: 50 * 1024 * 1024 } },
      networks: { eth0: { rx_bytes: 100, tx_bytes: 50 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
      blkio_stats: {
        io_service_bytes_recursive: [
          { op: 'read', value: 4096 },
          { op: 'Write', value: 8192 },
          { op: 'Total', value: 12288 },
        ],
      },
      pids_stats: { current: 3 },
    });
    expect(s).toEqual({
      read: '2026-01-01T00:00:01Z',
      cpu: { percent: 20, onlineCpus: 2 },
      memory: { usage: 100 * 1024 * 1024, limit: 1024 * 1024 * 1024, percent: 9.77 },
      network: { rxBytes: 101, txBytes: 52 },
      blockIo: { readBytes: 4096, writeBytes: 8192 },
      pids: 3,
    });
  });

  it('reports zeros for a stopped container', () => {
    const s = computeStats({
      read: '0001-01-01T00:00:00Z',
      memory_stats: {},
      cpu_stats: { cpu_usage: { total_usage: 0 } },
    });
    expect(s).toMatchObject({ read: null, cpu: { percent: 0 }, memory: { usage: 0, limit: 0, percent: 0 } });
  });
});

describe('own container detection', () => {
  const id = 'a'.repeat(64);
  it('reads cgroup v1 paths and cgroup v2 mountinfo', () => {
    expect(containerIdFromProc(`12:memory:/docker/${id}\n`, '')).toBe(id);
    expect(containerIdFromProc(`0::/system.slice/docker-${id}.scope\n`, '')).toBe(id);
    expect(
      containerIdFromProc('0::/\n', `612 600 8:1 /var/lib/docker/containers/${id}/hostname /etc/hostname rw - ext4\n`),
    ).toBe(id);
    expect(containerIdFromProc('0::/\n', '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n')).toBeUndefined();
  });
});
