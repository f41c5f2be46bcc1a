import { ConfigError } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { composeEnv, parseConfig, policyConfig } from '../src/config.ts';

describe('config', () => {
  it('starts on defaults', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      DOCKER_AGENT_HOST: '0.0.0.0',
      DOCKER_AGENT_PORT: 3002,
      DOCKER_SOCKET: '/var/run/docker.sock',
      API_KEYS: [],
      DOCKER_AGENT_COMPOSE_DIR: '.data/compose',
      DOCKER_AGENT_HEARTBEAT_MS: 15_000,
      DOCKER_AGENT_PROTECT_LABEL: 'com.portone-docker-stack.protected',
    });
    expect(policyConfig(c)).toMatchObject({ allowPrivileged: false, bindAllowlist: [], imageAllowlist: [] });
    expect(composeEnv(c)).toMatchObject({ DOCKER_HOST: 'unix:///var/run/docker.sock' });
    expect(Object.keys(composeEnv(c)).sort()).toEqual(['DOCKER_HOST', 'HOME', 'PATH']);
  });

  it('parses lists, booleans and keys', () => {
    const c = parseConfig({
      API_KEYS: 'ops:write:0123456789abcdef,ci:read:fedcba9876543210',
      DOCKER_AGENT_BIND_ALLOWLIST: '/srv/data:rw, /tmp/agent',
      DOCKER_AGENT_ALLOW_PRIVILEGED: 'true',
      DOCKER_AGENT_IMAGE_ALLOWLIST: '',
    });
    expect(c.API_KEYS.map((k) => `${k.name}:${k.role}`)).toEqual(['ops:write', 'ci:read']);
    const policy = policyConfig(c);
    expect(policy.bindAllowlist).toEqual(['/srv/data', '/tmp/agent']);
    expect(policy.bindWritable).toEqual(['/srv/data']);
    expect(policy.allowPrivileged).toBe(true);
    expect(policy.imageAllowlist).toEqual([]);
  });

  it('names the variable of a bad value', () => {
    const bad = (env: Record<string, string>, variable: string) => {
      try {
        parseConfig(env);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).issues.map((i) => i.variable)).toContain(variable);
      }
    };
    bad({ DOCKER_AGENT_PORT: 'abc' }, 'DOCKER_AGENT_PORT');
    bad({ DOCKER_AGENT_BIND_ALLOWLIST: 'relative/path' }, 'DOCKER_AGENT_BIND_ALLOWLIST.0');
    bad({ API_KEYS: 'ops:admin:0123456789abcdef' }, 'API_KEYS');
    bad({ DOCKER_AGENT_ALLOW_PRIVILEGED: 'maybe' }, 'DOCKER_AGENT_ALLOW_PRIVILEGED');
    bad({ DOCKER_AGENT_DOCKER_HUB_URL: 'ftp://hub' }, 'DOCKER_AGENT_DOCKER_HUB_URL');
  });

  it('reads registry credentials per host, and a bad map names the variable but never its value', () => {
    const c = parseConfig({
      DOCKER_AGENT_REGISTRY_AUTH: JSON.stringify({
        'ghcr.io': { username: 'u', password: 'config-secret-0123' },
        '127.0.0.1:5000': { identitytoken: 'config-token-0123' },
      }),
    });
    expect(c.DOCKER_AGENT_REGISTRY_AUTH['127.0.0.1:5000']).toEqual({ identitytoken: 'config-token-0123' });
    expect(parseConfig({}).DOCKER_AGENT_REGISTRY_AUTH).toEqual({});
    for (const value of ['{"ghcr.io":', '{"ghcr.io":{"username":"u"}}', '{"bad host!":{"identitytoken":"t"}}']) {
      try {
        parseConfig({ DOCKER_AGENT_REGISTRY_AUTH: value.replace('"u"}', '"u","pass":"config-secret-0123"}') });
        expect.unreachable();
      } catch (error) {
        const issues = (error as ConfigError).issues;
        expect(issues.map((i) => i.variable.split('.')[0])).toContain('DOCKER_AGENT_REGISTRY_AUTH');
        expect(JSON.stringify(issues)).not.toContain('config-secret-0123');
      }
    }
  });
});
