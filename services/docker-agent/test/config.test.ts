import { ConfigError } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../src/config.ts';

describe('config', () => {
  it('starts on defaults', () => {
    const c = loadAgentConfig({});
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 3002,
      dockerSocket: '/var/run/docker.sock',
      apiKeys: [],
      composeDir: '.data/compose',
      heartbeatMs: 15_000,
      protectLabel: 'com.portone-docker-stack.protected',
      policy: { allowPrivileged: false, bindAllowlist: [], imageAllowlist: [] },
    });
    expect(c.composeEnv).toMatchObject({ DOCKER_HOST: 'unix:///var/run/docker.sock' });
    expect(Object.keys(c.composeEnv).sort()).toEqual(['DOCKER_HOST', 'HOME', 'PATH']);
  });

  it('parses lists, booleans and keys', () => {
    const c = loadAgentConfig({
      API_KEYS: 'ops:write:0123456789abcdef,ci:read:fedcba9876543210',
      DOCKER_AGENT_BIND_ALLOWLIST: '/srv/data:rw, /tmp/agent',
      DOCKER_AGENT_ALLOW_PRIVILEGED: 'true',
      DOCKER_AGENT_IMAGE_ALLOWLIST: '',
    });
    expect(c.apiKeys.map((k) => `${k.name}:${k.role}`)).toEqual(['ops:write', 'ci:read']);
    expect(c.policy.bindAllowlist).toEqual(['/srv/data', '/tmp/agent']);
    expect(c.policy.bindWritable).toEqual(['/srv/data']);
    expect(c.policy.allowPrivileged).toBe(true);
    expect(c.policy.imageAllowlist).toEqual([]);
  });

  it('names the variable of a bad value', () => {
    const bad = (env: Record<string, string>, variable: string) => {
      try {
        loadAgentConfig(env);
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
    const c = loadAgentConfig({
      DOCKER_AGENT_REGISTRY_AUTH: JSON.stringify({
        'ghcr.io': { username: 'u', password: 'config-secret-0123' },
        '127.0.0.1:5000': { identitytoken: 'config-token-0123' },
      }),
    });
    expect(c.registryAuth['127.0.0.1:5000']).toEqual({ identitytoken: 'config-token-0123' });
    expect(loadAgentConfig({}).registryAuth).toEqual({});
    for (const value of ['{"ghcr.io":', '{"ghcr.io":{"username":"u"}}', '{"bad host!":{"identitytoken":"t"}}']) {
      try {
        loadAgentConfig({ DOCKER_AGENT_REGISTRY_AUTH: value.replace('"u"}', '"u","pass":"config-secret-0123"}') });
        expect.unreachable();
      } catch (error) {
        const issues = (error as ConfigError).issues;
        expect(issues.map((i) => i.variable.split('.')[0])).toContain('DOCKER_AGENT_REGISTRY_AUTH');
        expect(JSON.stringify(issues)).not.toContain('config-secret-0123');
      }
    }
  });
});
