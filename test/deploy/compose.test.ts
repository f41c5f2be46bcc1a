/**
 * The compose deployment never starts open: `docker-compose config` (what `up` interpolates first)
 * refuses an .env without API keys, naming the variable, and publishes the front on 127.0.0.1 unless
 * the operator sets FRONT_BIND_ADDRESS. The environment compose then hands each service is one that
 * service accepts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { realService } from '@repo/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig as parseAgentConfig } from '../../services/docker-agent/src/config.ts';
import { parseConfig as parseGatewayConfig } from '../../services/payment-gateway/src/config.ts';

const exec = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const EXAMPLE = readFileSync(join(root, '.env.example'), 'utf8');

const dockerCompose = await realService('docker-compose', async () => {
  await exec('docker-compose', ['version']);
  return true;
});

/** What an operator fills in; each test leaves out or changes what it is about. */
const FILLED = {
  GATEWAY_API_KEYS: 'billing:write:gateway-write-key-0123456789',
  DOCKER_AGENT_API_KEYS: 'ops:write:agent-write-key-0123456789',
  PORTONE_IMP_KEY: 'imp_live_key',
  PORTONE_IMP_SECRET: 'imp_live_secret_value',
};

interface ComposeConfig {
  services: Record<
    string,
    {
      ports?: (string | { published: number; target: number; host_ip?: string })[];
      environment?: Record<string, string | null>;
    }
  >;
}

// docker-compose 1.29 takes 2-3 s per `config`.
describe.runIf(dockerCompose)('docker-compose.yml with .env.example', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'compose-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;

  /** `docker-compose config` on .env.example with `set` applied; only PATH from this process's environment. */
  async function config(set: Record<string, string>, profile?: string) {
    let text = EXAMPLE;
    for (const [name, value] of Object.entries(set)) {
      const line = new RegExp(`^${name}=.*$`, 'm');
      text = line.test(text) ? text.replace(line, `${name}=${value}`) : `${text}\n${name}=${value}\n`;
    }
    const envFile = join(dir, `env-${++n}`);
    writeFileSync(envFile, text);
    const args = [
      '--env-file',
      envFile,
      '-f',
      join(root, 'docker-compose.yml'),
      ...(profile ? ['--profile', profile] : []),
      'config',
    ];
    try {
      const { stdout } = await exec('docker-compose', args, { env: { PATH: process.env.PATH ?? '' }, cwd: dir });
      return { ok: true as const, config: parse(stdout) as ComposeConfig };
    } catch (error) {
      return { ok: false as const, stderr: String((error as { stderr?: string }).stderr ?? error) };
    }
  }

  it('refuses .env.example as it is: the secrets are empty on purpose', async () => {
    const result = await config({});
    expect(result.ok).toBe(false);
  });

  it.each(['GATEWAY_API_KEYS', 'DOCKER_AGENT_API_KEYS'])('refuses to start without %s, naming it', async (name) => {
    const result = await config({ ...FILLED, [name]: '' });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.stderr).toContain(`set ${name} in .env`);
  });

  it('publishes the front on 127.0.0.1 unless FRONT_BIND_ADDRESS opens it', async () => {
    const ports = async (set: Record<string, string>) => {
      const result = await config({ ...FILLED, ...set });
      if (!result.ok) throw new Error(result.stderr);
      return (result.config.services.front?.ports ?? []).map((p) =>
        typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published}:${p.target}`,
      );
    };
    expect(await ports({})).toEqual([expect.stringMatching(/^127\.0\.0\.1:8080:8080(\/tcp)?$/)]);
    expect(await ports({ FRONT_BIND_ADDRESS: '' })).toEqual([
      expect.stringMatching(/^127\.0\.0\.1:8080:8080(\/tcp)?$/),
    ]);
    expect(await ports({ FRONT_BIND_ADDRESS: '0.0.0.0', FRONT_PORT: '80' })).toEqual([
      expect.stringMatching(/^0\.0\.0\.0:80:8080(\/tcp)?$/),
    ]);
  });

  it('hands each service an environment it accepts: keys set, PortOne over https, or the dev emulator by opt-in', async () => {
    const environment = async (set: Record<string, string>, profile?: string) => {
      const result = await config({ ...FILLED, ...set }, profile);
      if (!result.ok) throw new Error(result.stderr);
      const env = (service: string) =>
        Object.fromEntries(
          Object.entries(result.config.services[service]?.environment ?? {}).map(([k, v]) => [k, v ?? undefined]),
        );
      return { gateway: env('payment-gateway'), agent: env('docker-agent') };
    };

    const production = await environment({});
    const gateway = parseGatewayConfig(production.gateway);
    expect(gateway.API_KEYS).toEqual([{ name: 'billing', role: 'write', key: 'gateway-write-key-0123456789' }]);
    expect(gateway.PORTONE_API_URL).toBe('https://api.iamport.kr');
    expect(parseAgentConfig(production.agent).API_KEYS).toEqual([
      { name: 'ops', role: 'write', key: 'agent-write-key-0123456789' },
    ]);

    // The dev profile's emulator is plain http on the compose network: the gateway takes it only by opt-in.
    const emulator = { PORTONE_API_URL: 'http://portone-emulator:3003' };
    const refused = await environment(emulator, 'dev');
    expect(() => parseGatewayConfig(refused.gateway)).toThrow(/PORTONE_API_URL/);
    const dev = await environment({ ...emulator, PORTONE_ALLOW_INSECURE_HTTP: 'true' }, 'dev');
    expect(parseGatewayConfig(dev.gateway).PORTONE_API_URL).toBe('http://portone-emulator:3003');
  });
});
