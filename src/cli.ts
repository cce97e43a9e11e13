import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { parseRestrictedList } from './parser/index.ts';
import type { ParsedInstrument, ParseWarning } from './parser/types.ts';

/**
 * `npm run -s cli -- <command>`. Exit codes: 0 done, 1 failure, 2 the input cannot be used
 * (a page with no list table), 64 usage.
 */
const USAGE = `usage: npm run -s cli -- <command>

commands:
  parse <file.xhtml> [--json]   parse a page saved in Confluence storage format, without writing anything
`;

function formatTable(instruments: ParsedInstrument[]): string {
  const columns = ['ticker', 'isin', 'name', 'restriction_type', 'reason', 'effective_from', 'expires_at'] as const;
  const cells = instruments.map((instrument) => columns.map((column) => instrument[column] ?? '—'));
  const widths = columns.map((column, i) => Math.min(40, Math.max(column.length, ...cells.map((row) => row[i]!.length))));
  const line = (values: readonly string[]) =>
    values.map((value, i) => (value.length > widths[i]! ? `${value.slice(0, widths[i]! - 1)}…` : value.padEnd(widths[i]!))).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function formatWarning(warning: ParseWarning): string {
  const where = [
    warning.table === null ? null : `table ${warning.table}`,
    warning.row === null ? null : `row ${warning.row}`,
    warning.column === null ? null : `column "${warning.column}"`,
  ].filter(Boolean);
  return `  - ${where.length ? `${where.join(', ')}: ` : ''}${warning.problem}${warning.raw ? ` ("${warning.raw}")` : ''}`;
}

async function parseCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) {
    process.stderr.write(USAGE);
    return 64;
  }
  let storage: string;
  try {
    storage = await readFile(file, 'utf8');
  } catch (error) {
    const message = `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    if (values.json) process.stdout.write(`${JSON.stringify({ error: { code: 'file_unreadable', message } })}\n`);
    else process.stderr.write(`${message}\n`);
    return 1;
  }
  const result = parseRestrictedList({ pageId: basename(file), storage });
  if (values.json) {
    if (result.ok) {
      process.stdout.write(`${JSON.stringify({ instruments: result.instruments, warnings: result.warnings }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${JSON.stringify({ error: result.error })}\n`);
    if (result.warnings.length) process.stderr.write(`warnings:\n${result.warnings.map(formatWarning).join('\n')}\n`);
    return 2;
  }
  if (!result.ok) {
    process.stderr.write(`${file}: ${result.error.message}\n`);
    if (result.warnings.length) process.stderr.write(`warnings:\n${result.warnings.map(formatWarning).join('\n')}\n`);
    return 2;
  }
  process.stdout.write(`${formatTable(result.instruments)}\n\n${result.instruments.length} instruments`);
  process.stdout.write(result.warnings.length ? `, ${result.warnings.length} warnings:\n${result.warnings.map(formatWarning).join('\n')}\n` : ', no warnings\n');
  return 0;
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<number>> = { parse: parseCommand };
const run = command === undefined ? undefined : commands[command];
if (run === undefined) {
  process.stderr.write(USAGE);
  process.exitCode = 64;
} else {
  process.exitCode = await run(rest);
}
