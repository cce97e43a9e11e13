/**
 * Parser benchmark: a realistic 50,000-row list page (~13 MB of storage format) parsed once,
 * cold, in a fresh Node process, against htmlparser2's tokenizer alone over the same page.
 *
 * Each figure comes from its own child process so that neither run's heap or JIT warms the
 * other. Peak RSS is that process's maximum resident set size: Node itself, its TypeScript
 * loader, the page string and the parse.
 *
 *   node bench/parse-bench.ts            prints the figures
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from 'htmlparser2';
import { parseRestrictedList } from '../src/parser/index.ts';
import { generateListPage } from './generate-page.ts';

export interface ParseBenchResult {
  rows: number;
  bytes: number;
  ms: number;
  peakRssMb: number;
  baselineTokenizerMs: number;
}

function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

function measureParse(
  pagePath: string,
): Omit<ParseBenchResult, 'baselineTokenizerMs'> & { rssBeforeParseMb: number } {
  const storage = readFileSync(pagePath, 'utf8');
  const rssBeforeParseMb = peakRssMb();
  const start = performance.now();
  const result = parseRestrictedList({ pageId: 'bench', storage });
  const ms = performance.now() - start;
  if (!result.ok) throw new Error(`bench page did not parse: ${result.error.message}`);
  return {
    rows: result.instruments.length,
    bytes: Buffer.byteLength(storage),
    ms: Math.round(ms),
    peakRssMb: peakRssMb(),
    rssBeforeParseMb,
  };
}

function measureTokenizer(pagePath: string): { ms: number } {
  const storage = readFileSync(pagePath, 'utf8');
  const ignore = (): void => {};
  const tokenizer = new Tokenizer(
    { xmlMode: false, decodeEntities: true },
    {
      onattribdata: ignore,
      onattribentity: ignore,
      onattribend: ignore,
      onattribname: ignore,
      oncdata: ignore,
      onclosetag: ignore,
      oncomment: ignore,
      ondeclaration: ignore,
      onend: ignore,
      onopentagend: ignore,
      onopentagname: ignore,
      onprocessinginstruction: ignore,
      onselfclosingtag: ignore,
      ontext: ignore,
      ontextentity: ignore,
    },
  );
  const start = performance.now();
  tokenizer.write(storage);
  tokenizer.end();
  return { ms: Math.round(performance.now() - start) };
}

const SELF = fileURLToPath(import.meta.url);

function inChild<T>(mode: string, pagePath: string): T {
  const output = execFileSync(process.execPath, [SELF, mode, pagePath], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output) as T;
}

/**
 * The page is generated once, here, and read from a temporary file by each measuring process:
 * building 13 MB of strings would otherwise inflate the parse's peak memory.
 */
export async function benchParse(): Promise<ParseBenchResult & { rssBeforeParseMb: number }> {
  const directory = await mkdtemp(join(tmpdir(), 'parse-bench-'));
  try {
    const pagePath = join(directory, 'page.xhtml');
    await writeFile(pagePath, generateListPage());
    const parse = inChild<ReturnType<typeof measureParse>>('--measure-parse', pagePath);
    const tokenizer = inChild<ReturnType<typeof measureTokenizer>>('--measure-tokenizer', pagePath);
    return { ...parse, baselineTokenizerMs: tokenizer.ms };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF) {
  const [mode, pagePath = ''] = process.argv.slice(2);
  if (mode === '--measure-parse') process.stdout.write(JSON.stringify(measureParse(pagePath)));
  else if (mode === '--measure-tokenizer') process.stdout.write(JSON.stringify(measureTokenizer(pagePath)));
  else {
    const result = await benchParse();
    console.log(
      `parse: ${result.rows} rows, ${(result.bytes / 1e6).toFixed(1)} MB in ${result.ms} ms, peak RSS ${result.peakRssMb} MB ` +
        `(${result.rssBeforeParseMb} MB before parsing: Node, its TypeScript loader and the page); ` +
        `htmlparser2 tokenizer alone over the same page: ${result.baselineTokenizerMs} ms`,
    );
  }
}
