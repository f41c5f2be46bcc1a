/**
 * Regenerates test/e2e/seed-contract.json, the contract the end-to-end test replays: every curl
 * example (exactly as written, line continuations included) and every endpoint-table row of the
 * user's original product documents (Markdown):
 *
 *   node scripts/seed-contract.ts <seed.md>...
 *
 * Tests never run this script; they read its output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

export interface SeedEndpoint {
  document: string;
  /** The heading the table sits under (`Containers`, `Payments (결제)`, ...). */
  group: string;
  method: string;
  /** Relative to the documents' base URL, `/api/v1`. */
  path: string;
  description: string;
}
export interface SeedExample {
  document: string;
  heading: string;
  command: string;
}

function parse(document: string, text: string): { endpoints: SeedEndpoint[]; examples: SeedExample[] } {
  const endpoints: SeedEndpoint[] = [];
  const examples: SeedExample[] = [];
  let heading = '';
  let inBlock = false;
  let block: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) {
      if (inBlock) {
        for (const command of shellCommands(block.join('\n'))) {
          if (command.startsWith('curl ')) examples.push({ document, heading, command });
        }
        block = [];
      }
      inBlock = !inBlock;
      continue;
    }
    if (inBlock) {
      block.push(line);
      continue;
    }
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    const row = /^\| (GET|POST|PUT|PATCH|DELETE) \| (\/\S*) \| (.*?) \|$/.exec(line);
    if (row) endpoints.push({ document, group: heading, method: row[1]!, path: row[2]!, description: row[3]! });
  }
  return { endpoints, examples };
}

/**
 * Splits a shell snippet into commands the way the shell would: a newline ends a command unless it is
 * escaped with a backslash or sits inside quotes (the seeds' multi-line JSON bodies). Each command
 * keeps its text as written. Comment lines are dropped.
 */
function shellCommands(script: string): string[] {
  const commands: string[] = [];
  let current = '';
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '\\' && script[i + 1] === '\n') {
      current += '\\\n';
      i++;
      continue;
    } else if (ch === '\n') {
      commands.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  commands.push(current);
  return commands.map((c) => c.trim()).filter((c) => c && !c.startsWith('#'));
}

function main(): void {
  const { positionals } = parseArgs({ allowPositionals: true });
  if (positionals.length === 0) {
    console.error('usage: node scripts/seed-contract.ts <seed.md>...');
    process.exit(2);
  }
  const endpoints: SeedEndpoint[] = [];
  const examples: SeedExample[] = [];
  const documents: Record<string, { title: string; endpoints: number; examples: number }> = {};
  for (const file of positionals) {
    const text = readFileSync(file, 'utf8');
    const name = basename(file);
    const parsed = parse(name, text);
    endpoints.push(...parsed.endpoints);
    examples.push(...parsed.examples);
    documents[name] = {
      title: /^# (.+)$/m.exec(text)?.[1] ?? name,
      endpoints: parsed.endpoints.length,
      examples: parsed.examples.length,
    };
  }
  const contract = {
    source: {
      what: "The user's original product documents: their endpoint tables and curl examples are the contract the stack keeps working through the nginx front.",
      documents,
      baseUrl: '/api/v1',
      extracted: new Date().toISOString().slice(0, 10),
      by: 'scripts/seed-contract.ts',
    },
    endpoints,
    examples,
  };
  const out = 'test/e2e/seed-contract.json';
  writeFileSync(out, `${JSON.stringify(contract, null, 2)}\n`);
  console.info(`${out}: ${endpoints.length} endpoints, ${examples.length} examples`);
}

main();
