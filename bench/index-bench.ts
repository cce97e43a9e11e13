/**
 * The check index with a big list, on real parts: an embedded Postgres holding 100,000 active
 * instruments, applied as a sync applies them, and the API as buildApi makes it, in a process of
 * its own (this file with `--serve`, run with --expose-gc so that memory figures count live
 * objects). Applies run in a process of their own too (`--apply`), so that the load generator's
 * event loop never waits for them.
 *
 * - memory: what the index's snapshot holds (JavaScript heap and array buffers), a forced GC before
 *   and after the first load;
 * - reloads, several in a row: each apply changes the list (1,000 instruments each modified, added
 *   and removed) while checks are served at a fixed 1,000 requests/s; for each, the time from the
 *   notification to the new snapshot answering, the longest the event loop was blocked meanwhile
 *   (the larger of monitorEventLoopDelay's maximum and a 1 ms timer's longest lateness; on a shared
 *   machine this also counts the process waiting for a CPU), the longest GC, the memory in use at
 *   its highest; and over all of them the checks' p99 and slowest, and that each answer came from
 *   the list before a reload until the first from the list after it, and none from an older list
 *   after a newer one;
 * - baseline, in the same process and run: the list read as the index read it before this change
 *   (one query, both maps of whole rows built at once), with the same figures.
 *
 *   node bench/index-bench.ts [--rows 100000] [--reloads 5]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Knex } from 'knex';
import { startServer, stopServer } from '../src/api/server.ts';
import { buildApi, createStores } from '../src/composition.ts';
import { loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/knex.ts';
import {
  COMPARED_FIELDS,
  RESTRICTION_TYPES,
  type DesiredInstrument,
  type StoredInstrument,
} from '../src/domain/index.ts';
import type { Stores } from '../src/stores/types.ts';
import { countDiff, diffInstruments } from '../src/sync/diff.ts';
import { isinFor, letters } from './generate-page.ts';
import { startBenchPostgres } from './infra.ts';

export const INDEX_BENCH = {
  rows: 100_000,
  reloads: 5,
  /** Instruments modified, added and removed (each) by the apply that is reloaded. */
  changed: 1_000,
  checksPerSecond: 1_000,
  connections: 10,
} as const;

interface Blocking {
  ms: number;
  /** The longest the event loop was blocked while it ran. */
  longestBlockMs: number;
  /** The longest garbage collection (a pause, as V8's GC callbacks see it). */
  longestGcMs: number;
  /** Memory (heap and array buffers) in use at its highest while it ran, over that (after a GC) before. */
  peakHeapMb: number;
}

export interface IndexBenchResult {
  rows: number;
  /** Memory the loaded index holds (heap and array buffers, live, after a GC), and its first load. */
  index: Blocking & { heapMb: number };
  /** The same rows as the index held them before: one query, maps of whole rows. */
  baseline: Blocking & { heapMb: number };
  /** Each reload, in order. */
  reloads: Blocking[];
  checks: {
    answered: number;
    p99Ms: number;
    maxMs: number;
    errors: number;
    /** The load generator's own longest event-loop delay: a slow answer may be its own. */
    clientLagMs: number;
  };
  /** The version probe's answers: how many, and how many came from an older list after a newer one. */
  versions: { answers: number; seen: number[]; olderAfterNewer: number };
}

const SERVE_FLAG = '--serve';
const APPLY_FLAG = '--apply';
const THIS_FILE = fileURLToPath(import.meta.url);
const MB = 1e6;
const REASONS = ['Inside information', 'Deal team wall-crossed', 'Research blackout', 'Pending M&A advisory'];

/** A list as a big page yields it: tickers, ISINs, names, a few reasons, some dates. */
function generatedList(rows: number, offset = 0): DesiredInstrument[] {
  return Array.from({ length: rows }, (_, n) => {
    const i = n + offset;
    return {
      ticker: `${letters(i, 5)} US`,
      isin: isinFor(i),
      name: `${letters(i * 7919, 6)} Holdings plc`,
      restriction_type: RESTRICTION_TYPES[i % 3]!,
      reason: REASONS[i % REASONS.length]!,
      effective_from: i % 5 === 0 ? `2026-${String((i % 12) + 1).padStart(2, '0')}-01` : null,
      expires_at: i % 3 === 0 ? `2027-${String((i % 12) + 1).padStart(2, '0')}-15` : null,
      source_page_id: '700003',
    };
  });
}

/**
 * As the apply activity applies a list: the diff against the cache (worked out here, ahead of
 * time, so that only the apply itself runs while checks are measured), applied under the lock and
 * notified.
 */
async function prepareApply(stores: Stores, desired: DesiredInstrument[]) {
  const diff = diffInstruments(await stores.instruments.listAll(), desired);
  const counts = countDiff(diff);
  return async (runId: string): Promise<number> => {
    await stores.runs.start({ id: runId, workflowId: `bench-${runId}`, trigger: 'manual' });
    return stores.withApplyLock(async (tx) => {
      const listVersion = ((await tx.runs.currentListVersion()) ?? 0) + 1;
      const at = await tx.now();
      await tx.instruments.applyDiff(diff, { runId, listVersion, at, pages: new Map() });
      await tx.runs.markSucceeded(runId, {
        ...counts,
        listVersion,
        instrumentCount: desired.length,
        approvedBy: null,
        appliedAt: at,
      });
      await tx.notifyListChanged(listVersion);
      return listVersion;
    });
  };
}

/**
 * The list after reload `k` (1, 2, …) of the first `list`: its first `changed` instruments with
 * the reason of reload k, a further `changed` of its last ones gone, and `changed` more new ones.
 */
function listAfter(list: DesiredInstrument[], k: number): DesiredInstrument[] {
  const { changed } = INDEX_BENCH;
  return [
    ...list.slice(0, changed).map((instrument) => ({ ...instrument, reason: `Research blackout (${k})` })),
    ...list.slice(changed, list.length - k * changed),
    ...generatedList(k * changed, list.length),
  ];
}

/**
 * The applier (this file with `--apply`): for each `prepare` it works out the next list's diff
 * (before anything is measured) and says so; each `go` applies it.
 */
async function applyLists(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL!;
  const db = createDb(databaseUrl);
  const stores = createStores({ db, url: databaseUrl });
  const first = generatedList(Number(process.env.INDEX_BENCH_ROWS));
  let apply: ((runId: string) => Promise<number>) | null = null;
  process.on('message', (message: { kind: string; k: number }) => {
    void (async () => {
      if (message.kind === 'prepare') {
        apply = await prepareApply(stores, listAfter(first, message.k));
        process.send!({ kind: 'prepared' });
      } else if (message.kind === 'go') {
        await apply!(`bench-reload-${message.k}`);
        process.send!({ kind: 'applied' });
      }
    })();
  });
  await new Promise((resolve) => process.once('disconnect', resolve));
  await db.destroy();
}

const gc = () => (globalThis as { gc?: () => void }).gc!();
/** The JavaScript heap and the array buffers (the index's typed arrays live outside the heap). */
const heapUsed = () => {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

/**
 * Watches the event loop while `work` runs: a 1 ms timer's longest lateness and
 * monitorEventLoopDelay's maximum (the larger is reported), and the heap in use at its highest.
 */
function watchEventLoop() {
  gc();
  const heapBefore = heapUsed();
  let peakHeap = heapBefore;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let longestGc = 0;
  const from = performance.now();
  const gcs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if (entry.startTime >= from) longestGc = Math.max(longestGc, entry.duration);
  });
  gcs.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let latest = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    latest = Math.max(latest, now - last - 1);
    last = now;
    if (++ticks % 10 === 0) peakHeap = Math.max(peakHeap, heapUsed());
  }, 1);
  const started = performance.now();
  return {
    stop(): Blocking {
      const ms = performance.now() - started;
      clearInterval(timer);
      histogram.disable();
      gcs.disconnect();
      return {
        ms: Math.round(ms),
        longestBlockMs: Number(Math.max(latest, histogram.max / 1e6).toFixed(1)),
        longestGcMs: Number(longestGc.toFixed(1)),
        peakHeapMb: Math.round((Math.max(peakHeap, heapUsed()) - heapBefore) / MB),
      };
    },
  };
}

/** What the index did before: the active rows in one query, then both maps of whole rows at once. */
async function loadAsBefore(db: Knex) {
  const rows: StoredInstrument[] = await db('restricted_instruments')
    .select(['id', ...COMPARED_FIELDS, 'is_active', 'source_page_id'])
    .where({ is_active: true });
  const group = (key: 'ticker' | 'isin') => {
    const map = new Map<string, StoredInstrument[]>();
    for (const row of rows) {
      const value = row[key];
      if (value === null) continue;
      const list = map.get(value);
      if (list) list.push(row);
      else map.set(value, [row]);
    }
    return map;
  };
  return { byTicker: group('ticker'), byIsin: group('isin') };
}

/** The baseline's figures, the maps it built still live when the heap is measured. */
async function baselineOf(db: Knex): Promise<Blocking & { heapMb: number }> {
  gc();
  const empty = heapUsed();
  const watch = watchEventLoop();
  const maps = await loadAsBefore(db);
  const figures = watch.stop();
  gc();
  const heapMb = Math.round((heapUsed() - empty) / MB);
  if (maps.byTicker.size === 0) throw new Error('the baseline read no list');
  return { ...figures, heapMb };
}

/** The child: the baseline, then the API with its index, measured, until its parent disconnects. */
async function serve(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL!;
  const config = loadConfig({ ...process.env, PORT: '0' });
  const db = createDb(databaseUrl);
  const stores = createStores({ db, url: databaseUrl });

  const baseline = await baselineOf(db);
  gc();

  // Told of each notification the index hears, to time a reload from it.
  let notifiedAt: number | null = null;
  const listChanges = {
    subscribe: (onChange: () => void, onError: (message: string) => void) =>
      stores.listChanges.subscribe(() => {
        notifiedAt ??= performance.now();
        onChange();
      }, onError),
  };
  const { app, checkIndex } = buildApi({ config, stores: { ...stores, listChanges }, pollMs: 60_000 });
  gc();
  const beforeIndex = heapUsed();
  let watch = watchEventLoop();
  await checkIndex.start();
  const firstLoad = watch.stop();
  gc();
  const index = { ...firstLoad, heapMb: Math.round((heapUsed() - beforeIndex) / MB) };
  const { server, url } = await startServer(app, 0, '127.0.0.1');
  process.send!({ kind: 'ready', url, index, baseline });

  process.on('message', (message: { kind: string }) => {
    if (message.kind !== 'watch') return;
    const loaded = checkIndex.snapshot();
    notifiedAt = null;
    watch = watchEventLoop();
    const poll = setInterval(() => {
      if (checkIndex.snapshot() === loaded || notifiedAt === null) return;
      clearInterval(poll);
      const reloadMs = performance.now() - notifiedAt;
      // A little longer, to see the old snapshot go (its garbage collected while checks go on).
      setTimeout(() => {
        const figures = watch.stop();
        process.send!({ kind: 'reloaded', reload: { ...figures, ms: Math.round(reloadMs) } });
      }, 500);
    }, 1);
  });
  await new Promise<void>((resolve) => process.once('disconnect', resolve));
  await stopServer(server);
  await checkIndex.stop();
  await db.destroy();
}

/** Checks one after another on one connection, each answer's list version in order, until `until` resolves. */
async function probeVersions(url: string, token: string, until: Promise<unknown>): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const versions: number[] = [];
  let done = false;
  void until.then(() => (done = true));
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const outgoing = request(
        `${url}/v1/check?ticker=${encodeURIComponent('AAAAA US')}`,
        { agent, headers: { authorization: `Bearer ${token}` } },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.once('end', () => resolve((JSON.parse(body) as { list_version: number }).list_version));
        },
      );
      outgoing.once('error', reject);
      outgoing.end();
    });
  try {
    // Paced: a version every couple of milliseconds is plenty, and leaves the CPU to what is measured.
    while (!done) {
      versions.push(await once());
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return versions;
  } finally {
    agent.destroy();
  }
}

function fixedRateLoad(url: string, token: string, paths: string[], until: Promise<unknown>) {
  const latencies: number[] = [];
  let instance: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: INDEX_BENCH.connections,
        overallRate: INDEX_BENCH.checksPerSecond,
        duration: 120,
        timeout: 5,
        headers: { authorization: `Bearer ${token}` },
        requests: paths.map((path) => ({ method: 'GET', path })),
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === 200) latencies.push(responseTime);
    });
  });
  void until.then(() => instance.stop());
  return finished.then((result) => ({ result, latencies }));
}

export async function benchIndex(
  rows: number = INDEX_BENCH.rows,
  reloadCount: number = INDEX_BENCH.reloads,
): Promise<IndexBenchResult> {
  const infra = await startBenchPostgres('index-bench');
  const stores = createStores({ db: infra.db, url: infra.postgres.url });
  let child: ChildProcess | null = null;
  let applier: ChildProcess | null = null;
  try {
    const list = generatedList(rows);
    const applyFirst = await prepareApply(stores, list);
    await applyFirst('bench-first');
    const token = randomBytes(24).toString('hex');
    child = fork(THIS_FILE, [SERVE_FLAG], {
      env: {
        ...process.env,
        DATABASE_URL: infra.postgres.url,
        USE_MOCK_DATA: 'true',
        API_READ_TOKENS: `bench=${token}`,
      },
      execArgv: [...process.execArgv, '--expose-gc'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const next = <T>(from: ChildProcess, kind: string) =>
      new Promise<T>((resolve, reject) => {
        const onExit = (code: number | null) =>
          reject(new Error(`a bench process exited (${code}) before ${kind}`));
        const onMessage = (message: { kind: string }) => {
          if (message.kind !== kind) return;
          from.off('message', onMessage);
          from.off('exit', onExit);
          resolve(message as T);
        };
        from.on('message', onMessage);
        from.once('exit', onExit);
      });
    const ready = await next<{
      url: string;
      index: IndexBenchResult['index'];
      baseline: IndexBenchResult['baseline'];
    }>(child, 'ready');
    const nextApplier = fork(THIS_FILE, [APPLY_FLAG], {
      env: { ...process.env, DATABASE_URL: infra.postgres.url, INDEX_BENCH_ROWS: String(rows) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    applier = nextApplier;

    // Checks of listed instruments (found by ticker, by ISIN) and of unlisted ones.
    const paths = Array.from({ length: 200 }, (_, i) => {
      const listed = list[(i * 7919) % list.length]!;
      return i % 3 === 0
        ? `/v1/check?ticker=${encodeURIComponent(listed.ticker!)}`
        : i % 3 === 1
          ? `/v1/check?isin=${listed.isin}&side=buy`
          : `/v1/check?ticker=ZZ${i}`;
    });
    // Warmed up first: the first checks of a process meet cold code and new connections.
    await fixedRateLoad(ready.url, token, paths, new Promise((resolve) => setTimeout(resolve, 2_000)));
    let stopLoad!: () => void;
    const loadStopped = new Promise<void>((resolve) => (stopLoad = resolve));
    const clientLag = monitorEventLoopDelay({ resolution: 1 });
    clientLag.enable();
    const load = fixedRateLoad(ready.url, token, paths, loadStopped);
    const versions = probeVersions(ready.url, token, loadStopped);
    const reloads: Blocking[] = [];
    for (let k = 1; k <= reloadCount; k++) {
      nextApplier.send({ kind: 'prepare', k });
      await next(nextApplier, 'prepared');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const reloaded = next<{ reload: Blocking }>(child, 'reloaded');
      child.send({ kind: 'watch' });
      const applied = next(nextApplier, 'applied');
      nextApplier.send({ kind: 'go', k });
      await applied;
      reloads.push((await reloaded).reload);
    }
    stopLoad();
    const [{ result, latencies }, seen] = await Promise.all([load, versions]);
    clientLag.disable();

    const sorted = Float64Array.from(latencies).sort();
    let newest = 0;
    let olderAfterNewer = 0;
    for (const version of seen) {
      if (version < newest) olderAfterNewer++;
      newest = Math.max(newest, version);
    }
    return {
      rows,
      index: ready.index,
      baseline: ready.baseline,
      reloads,
      checks: {
        answered: latencies.length,
        p99Ms: Number(sorted[Math.ceil(sorted.length * 0.99) - 1]!.toFixed(2)),
        maxMs: Number(sorted[sorted.length - 1]!.toFixed(2)),
        errors: result.errors + result.non2xx,
        clientLagMs: Number((clientLag.max / 1e6).toFixed(1)),
      },
      versions: { answers: seen.length, seen: [...new Set(seen)], olderAfterNewer },
    };
  } finally {
    for (const running of [child, applier]) {
      if (running === null || running.exitCode !== null || !running.connected) continue;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.disconnect();
      await exited;
    }
    await infra.stop();
  }
}

export function printIndexBench(result: IndexBenchResult): void {
  const { index, baseline, reloads, checks, versions } = result;
  const figures = (b: Blocking) =>
    `${b.ms} ms, longest event-loop block ${b.longestBlockMs} ms (longest GC ${b.longestGcMs} ms), memory at most +${b.peakHeapMb} MB`;
  const worst = (pick: (b: Blocking) => number) => Math.max(...reloads.map(pick));
  const median = (pick: (b: Blocking) => number) =>
    [...reloads.map(pick)].sort((a, b) => a - b)[Math.floor(reloads.length / 2)]!;
  console.log(`check index, ${result.rows} active instruments in Postgres`);
  console.log(
    `  baseline          one query, maps of whole rows (the index before): ${figures(baseline)}; holds ${baseline.heapMb} MB`,
  );
  console.log(`  first load        ${figures(index)}; holds ${index.heapMb} MB   (target ≤ 100 MB)`);
  console.log(
    `  ${reloads.length} reloads         each ${INDEX_BENCH.changed} modified, added and removed, under ${INDEX_BENCH.checksPerSecond} checks/s: median ${median((b) => b.ms)} ms, longest event-loop block median ${median((b) => b.longestBlockMs)} ms, worst ${worst((b) => b.longestBlockMs)} ms (target ≤ 50 ms); longest GC ${worst((b) => b.longestGcMs)} ms; memory at most +${worst((b) => b.peakHeapMb)} MB`,
  );
  for (const [n, reload] of reloads.entries()) console.log(`    reload ${n + 1}        ${figures(reload)}`);
  console.log(
    `  checks meanwhile  ${checks.answered} answered, p99 ${checks.p99Ms} ms, slowest ${checks.maxMs} ms (the load generator's own event loop lagged up to ${checks.clientLagMs} ms), ${checks.errors} errors`,
  );
  console.log(
    `  version probe     ${versions.answers} answers, list versions ${versions.seen.join(' → ')}; ${versions.olderAfterNewer} from an older list after a newer one`,
  );
}

if (process.argv.includes(SERVE_FLAG)) await serve();
else if (process.argv.includes(APPLY_FLAG)) await applyLists();
else if (import.meta.main) {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, reloads: { type: 'string' } } });
  printIndexBench(
    await benchIndex(
      values.rows === undefined ? undefined : Number(values.rows),
      values.reloads === undefined ? undefined : Number(values.reloads),
    ),
  );
}
