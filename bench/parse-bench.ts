/**
 * Parser benchmark: realistic list pages (2,000 rows, ~0.5 MB; 50,000 rows, ~13 MB of storage
 * format) each parsed once, cold, in a fresh Node process, against htmlparser2's own
 * `parseDocument` of the same page with the same options: the DOM the parser builds through
 * cheerio, and nothing else. The tokenizer alone over the page is given as extra information.
 *
 * Each figure comes from its own child process so that neither run's heap or JIT warms the
 * other. Peak RSS is that process's maximum resident set size: Node itself, its TypeScript
 * loader, the page string and the parse. Times are wall-clock; the main thread's CPU time is
 * given too, as it moves far less than wall-clock time when other work shares the machine.
 *
 *   node bench/parse-bench.ts [runs]     prints the figures, `runs` times (default 1)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, Tokenizer } from 'htmlparser2';
import { parseRestrictedList } from '../src/parser/index.ts';
import { STORAGE_PARSER_OPTIONS } from '../src/parser/storage.ts';
import { generateListPage, ROWS } from './generate-page.ts';

/** The page sizes measured: a typical list, and the largest the service must handle. */
export const BENCH_ROWS = [2_000, ROWS] as const;

interface Measured {
  /** The first parse in the process: cold, as a worker's first sync after a start. */
  ms: number;
  /** The main thread's CPU time for the same span; `null` where Node cannot tell (before 23.9). */
  cpuMs: number | null;
  /** Of the cold parse (taken before the warm ones). */
  peakRssMb: number;
  /** The median of the next WARM_RUNS parses in the same process: every later sync of a running worker. */
  warmMs: number;
}

export interface ParseBenchResult extends Measured {
  rows: number;
  bytes: number;
  /** Peak RSS before parsing: Node, its TypeScript loader and the page. */
  rssBeforeParseMb: number;
  /** htmlparser2's `parseDocument` of the same page with the parser's options, in its own process. */
  baseline: Measured;
  /** htmlparser2's tokenizer alone over the same page, for information. */
  baselineTokenizerMs: number;
}

function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** Times `run` in wall-clock and main-thread CPU milliseconds. */
function timed<T>(run: () => T): { value: T; ms: number; cpuMs: number | null } {
  const threadCpu = 'threadCpuUsage' in process ? () => process.threadCpuUsage() : null;
  const cpuStart = threadCpu?.();
  const start = performance.now();
  const value = run();
  const ms = Math.round(performance.now() - start);
  const cpu = cpuStart === undefined ? undefined : process.threadCpuUsage(cpuStart);
  return { value, ms, cpuMs: cpu === undefined ? null : Math.round((cpu.user + cpu.system) / 1000) };
}

const WARM_RUNS = 3;

/** The median wall-clock time of `WARM_RUNS` more runs, after the cold one. */
function warmMedianMs(run: () => unknown): number {
  const times = Array.from({ length: WARM_RUNS }, () => timed(run).ms).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function measureParse(pagePath: string): Omit<ParseBenchResult, 'baseline' | 'baselineTokenizerMs'> {
  const storage = readFileSync(pagePath, 'utf8');
  const rssBeforeParseMb = peakRssMb();
  const { value: result, ms, cpuMs } = timed(() => parseRestrictedList({ pageId: 'bench', storage }));
  if (!result.ok) throw new Error(`bench page did not parse: ${result.error.message}`);
  const peak = peakRssMb();
  return {
    rows: result.instruments.length,
    bytes: Buffer.byteLength(storage),
    ms,
    cpuMs,
    peakRssMb: peak,
    rssBeforeParseMb,
    warmMs: warmMedianMs(() => parseRestrictedList({ pageId: 'bench', storage })),
  };
}

function measureParseDocument(pagePath: string): Measured {
  const storage = readFileSync(pagePath, 'utf8');
  const { value: document, ms, cpuMs } = timed(() => parseDocument(storage, STORAGE_PARSER_OPTIONS));
  if (document.children.length === 0) throw new Error('bench page parsed to nothing');
  const peak = peakRssMb();
  return {
    ms,
    cpuMs,
    peakRssMb: peak,
    warmMs: warmMedianMs(() => parseDocument(storage, STORAGE_PARSER_OPTIONS)),
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
 * Each page is generated once, here, and read from a temporary file by each measuring process:
 * building 13 MB of strings would otherwise inflate the parse's peak memory.
 */
export async function benchParse(): Promise<ParseBenchResult[]> {
  const directory = await mkdtemp(join(tmpdir(), 'parse-bench-'));
  try {
    const results: ParseBenchResult[] = [];
    for (const rows of BENCH_ROWS) {
      const pagePath = join(directory, `page-${rows}.xhtml`);
      await writeFile(pagePath, generateListPage(rows));
      const parse = inChild<ReturnType<typeof measureParse>>('--measure-parse', pagePath);
      const baseline = inChild<Measured>('--measure-parse-document', pagePath);
      const tokenizer = inChild<{ ms: number }>('--measure-tokenizer', pagePath);
      results.push({ ...parse, baseline, baselineTokenizerMs: tokenizer.ms });
    }
    return results;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** `value` as a multiple of `baseline`, `1.23×`. */
export function ratio(value: number, baseline: number): string {
  return `${(value / baseline).toFixed(2)}×`;
}

/** The main thread's CPU times of the parse and the baseline, and their ratio, if known. */
export function cpuFigures(result: ParseBenchResult): string {
  const { cpuMs } = result;
  const baseline = result.baseline.cpuMs;
  if (cpuMs === null || baseline === null) return 'main-thread CPU time not available';
  return `main-thread CPU ${cpuMs} ms vs ${baseline} ms, ${ratio(cpuMs, baseline)}`;
}

if (process.argv[1] === SELF) {
  const [mode, argument = ''] = process.argv.slice(2);
  if (mode === '--measure-parse') process.stdout.write(JSON.stringify(measureParse(argument)));
  else if (mode === '--measure-parse-document')
    process.stdout.write(JSON.stringify(measureParseDocument(argument)));
  else if (mode === '--measure-tokenizer') process.stdout.write(JSON.stringify(measureTokenizer(argument)));
  else {
    const runs = Number.parseInt(mode ?? '1', 10) || 1;
    for (let run = 1; run <= runs; run++) {
      for (const result of await benchParse()) {
        console.log(
          `run ${run}: ${result.rows} rows, ${(result.bytes / 1e6).toFixed(1)} MB in ${result.ms} ms, peak RSS ${result.peakRssMb} MB ` +
            `(${result.rssBeforeParseMb} MB before parsing); htmlparser2 parseDocument: ${result.baseline.ms} ms, ` +
            `peak RSS ${result.baseline.peakRssMb} MB; parse = ${ratio(result.ms, result.baseline.ms)} parseDocument ` +
            `(${cpuFigures(result)}); warm: ${result.warmMs} ms vs ${result.baseline.warmMs} ms, ${ratio(result.warmMs, result.baseline.warmMs)}; ` +
            `tokenizer alone: ${result.baselineTokenizerMs} ms`,
        );
      }
    }
  }
}
