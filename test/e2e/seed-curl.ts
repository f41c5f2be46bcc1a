/**
 * Extracts the curl examples from the seed documents (../shared/seeds/*.md) exactly as written and
 * runs them with the real curl binary against a given front, so the e2e test replays the user's
 * contract rather than a paraphrase of it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SeedExample {
  /** The document it came from and the heading it sits under. */
  source: string;
  heading: string;
  command: string;
  method: string;
  path: string;
}

export const SEEDS_DIR = new URL('../../../shared/seeds/', import.meta.url);

export function seedExamples(file: string): SeedExample[] {
  const text = readFileSync(new URL(file, SEEDS_DIR), 'utf8');
  const examples: SeedExample[] = [];
  let heading = '';
  let inBlock = false;
  let block: string[] = [];
  for (const line of text.split('\n')) {
    if (!inBlock && line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    if (line.startsWith('```')) {
      if (inBlock) {
        for (const cmd of shellCommands(block.join('\n'))) {
          if (!cmd.startsWith('curl ')) continue;
          const method = /-X\s+([A-Z]+)/.exec(cmd)?.[1] ?? 'GET';
          const url = /https?:\/\/localhost(?::\d+)?(\/[^\s'"]*)/.exec(cmd)?.[1] ?? '';
          examples.push({ source: file, heading, command: cmd, method, path: url });
        }
        block = [];
      }
      inBlock = !inBlock;
      continue;
    }
    if (inBlock) block.push(line);
  }
  return examples;
}

/**
 * Splits a shell snippet into commands the way the shell would: a newline ends a command unless it is
 * escaped with a backslash or sits inside single or double quotes (the seeds' multi-line JSON bodies).
 * Comment lines are dropped.
 */
function shellCommands(script: string): string[] {
  const commands: string[] = [];
  let current = '';
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
    } else if (ch === '\\' && script[i + 1] === '\n') {
      current += ' ';
      i++;
    } else if (ch === '\n') {
      commands.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  commands.push(current);
  return commands.map((c) => c.trim()).filter((c) => c && !c.startsWith('#'));
}

export interface CurlResult {
  status: number;
  body: string;
  json: unknown;
}

/** Runs the example with its host (`http://localhost` or `http://localhost:8080`) pointed at `base`. */
export async function replay(example: SeedExample, base: string): Promise<CurlResult> {
  const command = example.command
    .replace(/https?:\/\/localhost(?::\d+)?/g, base)
    .replace(/^curl /, `curl -sS -w '\\n%{http_code}' `);
  const { stdout } = await run('bash', ['-c', command], { maxBuffer: 16 * 1024 * 1024 });
  const cut = stdout.lastIndexOf('\n');
  const body = stdout.slice(0, cut);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: Number(stdout.slice(cut + 1)), body, json };
}
