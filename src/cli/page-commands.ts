/** The commands that read a page without writing anything: `parse` (a saved file) and `preview` (the configured pages). */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadDotEnv } from '../config.ts';
import { ConfluenceError, ConfluenceRateLimitError } from '../confluence/client.ts';
import { parseRestrictedList } from '../parser/index.ts';
import {
  COMPARED_FIELDS,
  type PageChecksum,
  type ParsedInstrument,
  type ParseWarning,
  type StoredPage,
} from '../domain/index.ts';
import { readList } from '../sync/read-list.ts';
import { createListSource, type ListSource } from '../sync/sources.ts';
import { EXIT, usage } from './usage.ts';

function formatTable(instruments: ParsedInstrument[]): string {
  const columns = COMPARED_FIELDS;
  const cells = instruments.map((instrument) => columns.map((column) => instrument[column] ?? '—'));
  const widths = columns.map((column, i) =>
    Math.min(40, Math.max(column.length, ...cells.map((row) => row[i]!.length))),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, i) =>
        value.length > widths[i]! ? `${value.slice(0, widths[i]! - 1)}…` : value.padEnd(widths[i]!),
      )
      .join('  ');
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

/** What the checksum says, in words Compliance acts on before publishing the page. */
export function describeChecksum(checksum: PageChecksum | null | undefined): string {
  if (!checksum)
    return 'checksum: none (write "Instrument count: N" on the page, outside the list table, so that a misread or deleted row fails the sync)';
  const stated = `"${checksum.text}" in ${checksum.where}`;
  return checksum.holds
    ? `checksum: holds: the page says ${checksum.expected} (${stated}) and ${checksum.found} instruments were read`
    : `checksum: DOES NOT HOLD: the page says ${checksum.expected} (${stated}) but ${checksum.found} ${checksum.found === 1 ? 'instrument was' : 'instruments were'} read; a sync would fail (ChecksumMismatch) and apply nothing`;
}

function writeList(instruments: ParsedInstrument[], warnings: ParseWarning[]): void {
  process.stdout.write(`${formatTable(instruments)}\n\n${instruments.length} instruments`);
  process.stdout.write(
    warnings.length
      ? `, ${warnings.length} warnings:\n${warnings.map(formatWarning).join('\n')}\n`
      : ', no warnings\n',
  );
}

export async function parseCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) return usage('parse takes one file');
  let storage: string;
  try {
    storage = await readFile(file, 'utf8');
  } catch (error) {
    const message = `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    if (values.json)
      process.stdout.write(`${JSON.stringify({ error: { code: 'file_unreadable', message } })}\n`);
    else process.stderr.write(`${message}\n`);
    return EXIT.failure;
  }
  const result = parseRestrictedList({ pageId: basename(file), storage });
  // A page whose checksum does not hold would fail the sync, as a page without a list table would.
  const exit = result.ok && result.checksum?.holds === false ? EXIT.unusable : EXIT.ok;
  if (values.json) {
    if (result.ok) {
      const { instruments, warnings, checksum } = result;
      process.stdout.write(
        `${JSON.stringify({ instruments, warnings, checksum: checksum ?? null }, null, 2)}\n`,
      );
      return exit;
    }
    process.stdout.write(`${JSON.stringify({ error: result.error })}\n`);
    if (result.warnings.length)
      process.stderr.write(`warnings:\n${result.warnings.map(formatWarning).join('\n')}\n`);
    return EXIT.unusable;
  }
  if (!result.ok) {
    process.stderr.write(`${file}: ${result.error.message}\n`);
    if (result.warnings.length)
      process.stderr.write(`warnings:\n${result.warnings.map(formatWarning).join('\n')}\n`);
    return EXIT.unusable;
  }
  writeList(result.instruments, result.warnings);
  process.stdout.write(`${describeChecksum(result.checksum)}\n`);
  return exit;
}

/** As the workflow does, a 429 is waited out (its Retry-After) a few times before giving up. */
const MAX_RATE_LIMIT_WAITS = 3;
/** A longer Retry-After is reported rather than waited out at a terminal. */
const MAX_RATE_LIMIT_WAIT_MS = 120_000;
/** When Confluence sends no Retry-After. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 5_000;

/** Every configured page, downloaded (no stored versions), waiting out rate limits. */
async function fetchAllPages(source: ListSource): Promise<StoredPage[]> {
  for (let wait = 1; ; wait++) {
    try {
      return (await source.fetchPages(new Map())) as StoredPage[];
    } catch (error) {
      if (!(error instanceof ConfluenceRateLimitError) || wait > MAX_RATE_LIMIT_WAITS) throw error;
      const ms = error.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS;
      if (ms > MAX_RATE_LIMIT_WAIT_MS) throw error;
      process.stderr.write(
        `${error.message}; waiting ${Math.ceil(ms / 1000)} s, then trying again (wait ${wait} of ${MAX_RATE_LIMIT_WAITS})\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }
}

/** What Compliance and operators run to see what a sync would read, before it does. */
export async function previewCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  loadDotEnv();
  let pages: StoredPage[];
  try {
    pages = await fetchAllPages(createListSource(loadConfig()));
  } catch (error) {
    if (error instanceof ConfigError) process.stderr.write(`configuration error: ${error.message}\n`);
    else if (error instanceof ConfluenceError || (error as Error).name === 'MockDataError')
      process.stderr.write(`${(error as Error).message}\n`);
    else throw error;
    return EXIT.failure;
  }
  const result = readList(pages);
  const pageRefs = pages.map(({ id, title, version, url }) => ({ id, title, version, url }));
  const checksums = result.checksums.map(({ pageId, ...checksum }) => ({ page_id: pageId, ...checksum }));
  if (!result.ok && result.instruments === undefined) {
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({ error: { code: 'parse_error', message: result.message } })}\n`,
      );
    else process.stderr.write(`${result.message}\n`);
    return EXIT.unusable;
  }
  // A mismatched checksum: the list is shown, with why a sync would refuse it.
  const exit = result.ok ? EXIT.ok : EXIT.unusable;
  const instruments = (result.instruments ?? []).map(
    ({ source_page_id: _page, ...instrument }) => instrument,
  );
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          pages: pageRefs,
          instruments,
          warnings: result.warnings,
          checksums,
          ...(result.ok ? {} : { error: { code: 'checksum_mismatch', message: result.message } }),
        },
        null,
        2,
      )}\n`,
    );
    return exit;
  }
  process.stdout.write(
    pageRefs.map((p) => `page ${p.id} "${p.title}" v${p.version}${p.url ? ` ${p.url}` : ''}`).join('\n') +
      '\n\n',
  );
  writeList(instruments, result.warnings);
  for (const page of pages) {
    const checksum = result.checksums.find((c) => c.pageId === page.id);
    process.stdout.write(`page ${page.id}: ${describeChecksum(checksum)}\n`);
  }
  return exit;
}
