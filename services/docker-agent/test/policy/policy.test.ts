import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyDeniedError } from '../../src/errors.ts';
import { isWithin, resolveHostPath } from '../../src/policy/paths.ts';
import { createPolicy, normaliseImage } from '../../src/policy/policy.ts';

const root = mkdtempSync(join(tmpdir(), 'da-policy-'));
mkdirSync(join(root, 'allowed', 'sub'), { recursive: true });
symlinkSync('/etc', join(root, 'allowed', 'to-etc'));
symlinkSync(join(root, 'allowed', 'sub'), join(root, 'inside-link'));

const policy = createPolicy({
  allowPrivileged: false,
  allowCapAdd: false,
  allowHostNamespaces: false,
  allowDevices: false,
  bindAllowlist: [join(root, 'allowed'), '/var/run'],
  imageAllowlist: ['local/', 'docker.io/library/redis'],
  dockerSocket: '/var/run/docker.sock',
});

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
    expect(await rule(policy.checkBindSource(`${root}/inside-link`, 'b'))).toBeUndefined();
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

  it('matches images by prefix, raw or normalised, never by id', async () => {
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
      bindAllowlist: [],
      imageAllowlist: [],
      dockerSocket: '/var/run/docker.sock',
    });
    expect(await rule(() => lenient.checkPrivileged(true, 'p'))).toBeUndefined();
    expect(await rule(() => lenient.checkCapAdd(['NET_ADMIN'], 'c'))).toBeUndefined();
    expect(await rule(lenient.checkBindSource('/tmp', 'b'))).toBe('bind-mount-outside-allowlist@b');
  });
});
