import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyDeniedError } from '../../src/errors.ts';
import { normaliseImage } from '../../src/policy/images.ts';
import { isWithin, resolveHostPath } from '../../src/policy/paths.ts';
import { createPolicy, type JoinLookup, type JoinTarget } from '../../src/policy/policy.ts';

const root = mkdtempSync(join(tmpdir(), 'da-policy-'));
mkdirSync(join(root, 'allowed', 'sub'), { recursive: true });
symlinkSync('/etc', join(root, 'allowed', 'to-etc'));
symlinkSync(join(root, 'allowed', 'sub'), join(root, 'inside-link'));

symlinkSync('/var/run/docker.sock', join(root, 'allowed', 'sock-link'));
symlinkSync('/var/run', join(root, 'allowed', 'run-link'));

const config = {
  allowPrivileged: false,
  allowCapAdd: false,
  allowHostNamespaces: false,
  allowDevices: false,
  allowSecurityOpt: false,
  bindAllowlist: [join(root, 'allowed'), '/var/run'],
  imageAllowlist: ['local/', 'docker.io/library/redis'],
  dockerSocket: '/var/run/docker.sock',
};
const policy = createPolicy(config);

async function rule(check: Promise<void> | (() => void)): Promise<string | undefined> {
  try {
    await (typeof check === 'function' ? check() : check);
    return undefined;
  } catch (error) {
    if (error instanceof PolicyDeniedError) return `${error.rule}@${error.field}`;
    throw error;
  }
}

describe('host paths', () => {
  it('normalises .. and resolves symlinks through the longest existing prefix', async () => {
    expect(await resolveHostPath(`${root}/allowed/sub/../../allowed/sub`)).toBe(`${root}/allowed/sub`);
    expect(await resolveHostPath(`${root}/allowed/to-etc/not/yet/there`)).toBe('/etc/not/yet/there');
    expect(await resolveHostPath(`${root}/inside-link/new`)).toBe(`${root}/allowed/sub/new`);
    expect(isWithin('/srv/data2', '/srv/data')).toBe(false);
    expect(isWithin('/srv/data/x', '/srv/data')).toBe(true);
  });
});

describe('policy', () => {
  it('judges bind sources by where they really land', async () => {
    expect(await rule(policy.checkBindSource(`${root}/allowed/sub/file`, 'b'))).toBeUndefined();
    // A link into the allowlist is refused too: it could be re-pointed before a later start.
    expect(await rule(policy.checkBindSource(`${root}/inside-link`, 'b'))).toBe('bind-mount-symlink@b');
    expect(await rule(policy.checkBindSource(`${root}/allowed/../`, 'b'))).toBe('bind-mount-outside-allowlist@b');
    expect(await rule(policy.checkBindSource(`${root}/allowed/to-etc`, 'b'))).toBe('bind-mount-outside-allowlist@b');
    expect(await rule(policy.checkBindSource(`${root}/allowed-not`, 'b'))).toBe('bind-mount-outside-allowlist@b');
    expect(await rule(policy.checkBindSource('/var/run/docker.sock', 'b'))).toBe('docker-socket-mount@b');
    expect(await rule(policy.checkBindSource('/run/docker.sock', 'b'))).toBe('docker-socket-mount@b');
    expect(await rule(policy.checkBindSource('/', 'b'))).toBe('docker-socket-mount@b');
  });

  it('treats local-driver bind options as bind mounts', async () => {
    expect(await rule(policy.checkVolumeDriverOptions('local', { o: 'bind', device: '/etc' }, 'v'))).toBe(
      'bind-mount-outside-allowlist@v.device',
    );
    expect(await rule(policy.checkVolumeDriverOptions(undefined, { type: 'none', o: 'rbind', device: '/' }, 'v'))).toBe(
      'docker-socket-mount@v.device',
    );
    expect(
      await rule(policy.checkVolumeDriverOptions('local', { type: 'tmpfs', device: 'tmpfs' }, 'v')),
    ).toBeUndefined();
  });

  it('matches images by whole path segments of the normalised name, never by id', async () => {
    expect(normaliseImage('redis')).toBe('docker.io/library/redis');
    expect(normaliseImage('me/app:1')).toBe('docker.io/me/app:1');
    expect(normaliseImage('registry.example:5000/app')).toBe('registry.example:5000/app');
    expect(await rule(() => policy.checkImage(['local/busybox:1'], 'image'))).toBeUndefined();
    expect(await rule(() => policy.checkImage(['redis:7'], 'image'))).toBeUndefined();
    expect(await rule(() => policy.checkImage(['nginx:latest'], 'image'))).toBe('image-not-allowed@image');
    expect(await rule(() => policy.checkImage(['sha256:'.padEnd(71, 'a')], 'image'))).toBe('image-not-allowed@image');
  });

  it('denies privilege and host namespaces unless allowed', async () => {
    expect(await rule(() => policy.checkPrivileged(true, 'p'))).toBe('privileged@p');
    expect(await rule(() => policy.checkPrivileged(false, 'p'))).toBeUndefined();
    expect(await rule(() => policy.checkNamespace('uts', 'host', 'u'))).toBe('host-uts-mode@u');
    expect(await rule(() => policy.checkNamespace('network', 'bridge', 'n'))).toBeUndefined();
    const lenient = createPolicy({
      allowPrivileged: true,
      allowCapAdd: true,
      allowHostNamespaces: true,
      allowDevices: true,
      allowSecurityOpt: true,
      bindAllowlist: [],
      imageAllowlist: [],
      dockerSocket: '/var/run/docker.sock',
    });
    expect(await rule(() => lenient.checkPrivileged(true, 'p'))).toBeUndefined();
    expect(await rule(() => lenient.checkCapAdd(['NET_ADMIN'], 'c'))).toBeUndefined();
    expect(await rule(lenient.checkBindSource('/tmp', 'b'))).toBe('bind-mount-outside-allowlist@b');
    expect(await rule(() => lenient.checkSecurityOpt(['seccomp=unconfined'], 's'))).toBeUndefined();
  });

  it('denies security options that lift a confinement; no-new-privileges is fine', async () => {
    for (const opt of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']) {
      expect(await rule(() => policy.checkSecurityOpt([opt], 's')), opt).toBeUndefined();
    }
    for (const opt of [
      'seccomp=unconfined',
      'seccomp:/x.json',
      'apparmor=unconfined',
      'label=disable',
      'systempaths=unconfined',
      'no-new-privileges=false',
    ]) {
      expect(await rule(() => policy.checkSecurityOpt(['no-new-privileges', opt], 's')), opt).toBe('security-opt@s[1]');
    }
  });

  describe("sharing another container's namespace (container:<ref>)", () => {
    const containers: Record<string, JoinTarget> = {
      plain: { id: 'p1', name: 'plain', self: false, protected: false, modes: { network: 'bridge', pid: '' } },
      hostnet: { id: 'h1', name: 'hostnet', self: false, protected: false, modes: { network: 'host', pid: 'host' } },
      chained: { id: 'c1', name: 'chained', self: false, protected: false, modes: { network: 'container:hostnet' } },
      loop: { id: 'l1', name: 'loop', self: false, protected: false, modes: { network: 'container:loop' } },
      agent: { id: 'a1', name: 'agent', self: true, protected: false, modes: { network: 'bridge' } },
      db: { id: 'd1', name: 'db', self: false, protected: true, modes: { network: 'bridge' } },
    };
    const lookup: JoinLookup = async (ref) => containers[ref];
    const join = (kind: 'network' | 'pid', mode: string) => rule(policy.checkJoinedNamespace(kind, mode, 'f', lookup));

    it('allows a plain container, and modes that join nothing', async () => {
      expect(await join('network', 'container:plain')).toBeUndefined();
      expect(await join('pid', 'container:plain')).toBeUndefined();
      expect(await join('network', 'bridge')).toBeUndefined();
      expect(await join('network', 'container:loop')).toBeUndefined();
    });

    it('refuses one on the host namespace, directly or down a chain; the agent; protected and missing ones', async () => {
      expect(await join('network', 'container:hostnet')).toBe('host-network-mode@f');
      expect(await join('pid', 'container:hostnet')).toBe('host-pid-mode@f');
      expect(await join('network', 'container:chained')).toBe('host-network-mode@f');
      expect(await join('network', 'container:agent')).toBe('agent-self-protection@f');
      expect(await join('network', 'container:db')).toBe('protected-container@f');
      expect(await join('network', 'container:nothing')).toBe('host-network-mode@f');
      const lenient = createPolicy({ ...config, allowHostNamespaces: true });
      expect(await rule(lenient.checkJoinedNamespace('network', 'container:chained', 'f', lookup))).toBeUndefined();
      expect(await rule(lenient.checkJoinedNamespace('network', 'container:agent', 'f', lookup))).toBe(
        'agent-self-protection@f',
      );
    });
  });
});

describe('policy against bypass attempts', () => {
  it('finds the Docker socket behind every spelling: slashes, dots, /run, symlinks to it or its directory', async () => {
    for (const spelling of [
      '/var/run/docker.sock/',
      '/var/run//docker.sock',
      '//var/run/docker.sock',
      '/var/run/./docker.sock',
      '/var/run/docker.sock/.',
      '/var/lib/../run/docker.sock',
      '/run/docker.sock',
      '/run/docker.sock/',
      '/var/run/',
      '/run',
      `${root}/allowed/sock-link`,
      `${root}/allowed/run-link`,
      `${root}/allowed/run-link/docker.sock`,
      `${root}/allowed/sub/../run-link//docker.sock/`,
    ]) {
      expect(await rule(policy.checkBindSource(spelling, 'b')), spelling).toBe('docker-socket-mount@b');
    }
    // Linux paths are case-sensitive: another case is another (missing) path, not the socket.
    expect(await resolveHostPath('/VAR/RUN/docker.sock')).not.toBe(await resolveHostPath('/var/run/docker.sock'));
    expect(await rule(policy.checkBindSource('/VAR/RUN/docker.sock', 'b'))).toBe('bind-mount-outside-allowlist@b');
  });

  it('judges a configured socket elsewhere the same way', async () => {
    const custom = createPolicy({
      allowPrivileged: false,
      allowCapAdd: false,
      allowHostNamespaces: false,
      allowDevices: false,
      allowSecurityOpt: false,
      bindAllowlist: [root],
      imageAllowlist: [],
      dockerSocket: `${root}/allowed/sub/engine.sock`,
    });
    expect(await rule(custom.checkBindSource(`${root}/allowed/sub/engine.sock`, 'b'))).toBe('docker-socket-mount@b');
    expect(await rule(custom.checkBindSource(`${root}/inside-link`, 'b'))).toBe('docker-socket-mount@b');
    expect(await rule(custom.checkBindSource(`${root}/allowed/to-etc`, 'b'))).toBe('bind-mount-outside-allowlist@b');
  });

  it('refuses /proc paths, which the engine would resolve as its own process', async () => {
    const lenient = createPolicy({
      allowPrivileged: false,
      allowCapAdd: false,
      allowHostNamespaces: false,
      allowDevices: false,
      allowSecurityOpt: false,
      bindAllowlist: [process.cwd(), '/proc'],
      imageAllowlist: [],
      dockerSocket: '/var/run/docker.sock',
    });
    // /proc/self/cwd is the agent's (allowlisted) cwd here, but dockerd's own cwd when it mounts.
    for (const p of ['/proc/self/cwd', '/proc/1/cwd', '/proc/self/root/tmp', `${root}/../../proc/self/cwd`]) {
      expect(await rule(lenient.checkBindSource(p, 'b')), p).toBe('bind-mount-outside-allowlist@b');
    }
  });

  it('holds every host path in local-driver options to the bind rules: block devices, overlay dirs', async () => {
    const v = (opts: Record<string, string>, driver?: string) =>
      rule(policy.checkVolumeDriverOptions(driver, opts, 'v'));
    expect(await v({ type: 'ext4', device: '/dev/sda1' })).toBe('bind-mount-outside-allowlist@v.device');
    expect(await v({ type: 'xfs', o: 'ro', device: '/dev/vda' })).toBe('bind-mount-outside-allowlist@v.device');
    expect(await v({ o: 'ro,bind', device: `${root}/allowed/sub` })).toBeUndefined();
    expect(await v({ o: ' rbind ', device: '/var/run/docker.sock' })).toBe('docker-socket-mount@v.device');
    expect(await v({ type: 'none', device: `${root}/allowed/../` })).toBe('bind-mount-outside-allowlist@v.device');
    expect(
      await v({
        type: 'overlay',
        device: 'overlay',
        o: `lowerdir=${root}/allowed/sub:/etc,upperdir=/tmp/u,workdir=/tmp/w`,
      }),
    ).toBe('bind-mount-outside-allowlist@v.o');
    expect(await v({ type: 'overlay', device: 'overlay', o: 'lowerdir=/var/run' }, 'local')).toBe(
      'docker-socket-mount@v.o',
    );
    expect(await v({ type: 'tmpfs', device: 'tmpfs', o: 'size=10m' })).toBeUndefined();
    expect(await v({ type: 'nfs', o: 'addr=127.0.0.1', device: ':/export' })).toBeUndefined();
    expect(await v({ type: 'ext4', device: '/dev/sda1' }, 'some-plugin')).toBeUndefined();
  });
});
