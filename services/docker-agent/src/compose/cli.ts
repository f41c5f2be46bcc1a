import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ComposeUnavailableError } from '../errors.ts';

export type ComposePreference = 'auto' | 'docker compose' | 'docker-compose';

export interface OutputLine {
  type: 'output';
  stream: 'stdout' | 'stderr';
  line: string;
}
export interface ExitEvent {
  type: 'exit';
  code: number;
}

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  /** Kills the CLI when aborted (used for `logs --follow`; changes are left to finish). */
  signal?: AbortSignal;
}

function exec(
  file: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number },
) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof (error as { code?: unknown }).code === 'string') return reject(error);
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * The compose CLI: `docker compose` (v2) where the plugin exists, else `docker-compose` (v1).
 * Detected once, on first use, so the agent starts on machines without either.
 */
export class ComposeCli {
  #argv: Promise<string[]> | undefined;
  readonly #preference: ComposePreference;
  readonly #env: Record<string, string>;

  constructor(preference: ComposePreference, env: Record<string, string>) {
    this.#preference = preference;
    this.#env = env;
  }

  argv(): Promise<string[]> {
    this.#argv ??= this.#detect();
    return this.#argv;
  }

  async #detect(): Promise<string[]> {
    const candidates: string[][] =
      this.#preference === 'docker compose'
        ? [['docker', 'compose']]
        : this.#preference === 'docker-compose'
          ? [['docker-compose']]
          : [['docker', 'compose'], ['docker-compose']];
    for (const argv of candidates) {
      try {
        const r = await exec(argv[0] as string, [...argv.slice(1), 'version'], { env: this.#env, timeoutMs: 15_000 });
        if (r.code === 0) return argv;
      } catch {
        // not installed; try the next one
      }
    }
    this.#argv = undefined;
    throw new ComposeUnavailableError(`no compose CLI found (tried ${candidates.map((c) => c.join(' ')).join(', ')})`);
  }

  /** Runs to the end and returns the output (for `config`). */
  async capture(args: string[], options: RunOptions) {
    const [file, ...prefix] = await this.argv();
    return exec(file as string, [...prefix, ...args], { cwd: options.cwd, env: { ...this.#env, ...options.env } });
  }

  /** Runs and yields output lines as they come, then `{type:'exit', code}`. */
  async *stream(args: string[], options: RunOptions): AsyncGenerator<OutputLine | ExitEvent> {
    const [file, ...prefix] = await this.argv();
    const child = spawn(file as string, [...prefix, ...args], {
      cwd: options.cwd,
      env: { ...this.#env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const queue: OutputLine[] = [];
    let wake: (() => void) | undefined;
    let exit: number | undefined;
    let failure: Error | undefined;
    const push = (line: OutputLine) => {
      queue.push(line);
      wake?.();
    };
    createInterface({ input: child.stdout }).on('line', (line) => push({ type: 'output', stream: 'stdout', line }));
    createInterface({ input: child.stderr }).on('line', (line) => push({ type: 'output', stream: 'stderr', line }));
    child.on('error', (error) => {
      failure = error;
      wake?.();
    });
    child.on('close', (code, signal) => {
      exit = code ?? (signal ? 128 + 15 : 1);
      wake?.();
    });
    const kill = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', kill, { once: true });
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (failure) throw failure;
        if (exit !== undefined) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      options.signal?.removeEventListener('abort', kill);
      if (exit === undefined && options.signal?.aborted) kill();
    }
    yield { type: 'exit', code: exit };
  }
}
