/**
 * Check endpoint benchmark on real parts: embedded Postgres, a Temporal dev server, the fake
 * Confluence serving a generated list, synced by a worker. Then three subjects, each in a process
 * of its own (this file with `--serve <subject>`), so that autocannon, here, shares no event loop
 * with them:
 *
 * - `bare`: a bare Express 5 app answering a constant check-shaped JSON body, the framework's
 *   ceiling and the baseline;
 * - `api`: the service as `npm run api` starts it (startService, API role: check index, read
 *   tokens, request ids, metrics, request logs);
 * - `service`: the service as `npm start` starts it: worker and API in one process, the worker
 *   polling Temporal and the edit watch probing the fake Confluence every
 *   RESTRICTED_LIST_WATCH_SECONDS (as configured by default).
 *
 * Everything listens on 127.0.0.1 only; every load is bounded in time or in requests. The machine
 * is shared, so nothing is compared across runs: maximum throughput (closed loop, fixed
 * connections) is measured in rounds, each round measuring every subject in an order that
 * alternates from round to round, and each ratio is the median over rounds of that round's
 * subject/bare. Then each subject's p99 at a fixed 1,000 requests/s, and the batch endpoint
 * (1,000 items) against 1,000 single checks one after another. Latencies are taken from each
 * response (sub-millisecond), not from autocannon's whole-millisecond histogram.
 *
 *   node bench/check-bench.ts            CHECK_BENCH_CPU_PROF=<dir> also writes each subject's CPU profile there
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';
import { startServer, stopServer } from '../src/api/server.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { createLogger } from '../src/logger.ts';
import { isinCheckDigit } from '../src/parser/normalise.ts';
import { startService, type Role } from '../src/service.ts';
import { benchServiceEnv, startBenchInfra, startBenchWorker } from './infra.ts';
import { generateListPage } from './generate-page.ts';

const SUBJECTS = ['bare', 'api', 'service'] as const;
type Subject = (typeof SUBJECTS)[number];
type Shape = Exclude<Subject, 'bare'>;
const SHAPES: readonly Shape[] = ['api', 'service'];
const ROLES: Record<Shape, Role[]> = { api: ['api'], service: ['worker', 'api'] };

interface Latency {
  p50Ms: number;
  p99Ms: number;
}

export interface CheckBenchResult {
  /** Requests per second of each subject, round by round. */
  rounds: Record<Subject, number>[];
  /** Median over the rounds of each shape's rps / the bare handler's rps in the same round. */
  ratio: Record<Shape, number>;
  /** Median requests per second over the rounds. */
  rps: Record<Subject, number>;
  /** At a fixed overall rate: the rate achieved, the p99, failed requests. */
  fixedRate: Record<Subject, { rate: number; p99Ms: number; errors: number }>;
  /** POST /v1/check with `batchItems` items, one request at a time; and that many GETs one after another. */
  batch: Record<Shape, Latency & { singlesTotalMs: number }>;
}

export const CHECK_BENCH = {
  rows: 5_000,
  connections: 10,
  warmupSeconds: 3,
  rounds: 9,
  roundSeconds: 3,
  fixedRate: 1_000,
  fixedRateSeconds: 10,
  /** Distinct queries cycled through: listed tickers, listed ISINs with a side, unlisted tickers, unlisted ISINs. */
  queries: 200,
  batchItems: 1_000,
  batchRequests: 200,
} as const;

const SERVE_FLAG = '--serve';
const THIS_FILE = fileURLToPath(import.meta.url);

/** A check answer of typical size (one match), for the bare app to send as is. */
const CONSTANT_ANSWER = {
  restricted: true,
  severity: 'CRITICAL',
  matches: [
    {
      ticker: 'ABCD US',
      isin: 'US0378331005',
      name: 'QWERTY Holdings plc',
      restriction_type: 'full',
      reason: 'Inside information',
      effective_from: '2026-03-01',
      expires_at: null,
    },
  ],
  as_of: '2026-11-21T10:00:03.000Z',
  stale: false,
  list_version: 1,
};

function isinFor(index: number): string {
  const body = `US${String(index).padStart(9, '0')}`;
  return body + String(isinCheckDigit(body));
}

type CheckParams = { ticker?: string; isin?: string; side?: 'buy' | 'sell' };

/** The query mix: listed instruments by ticker and by ISIN, some with a side, and unlisted ones. */
function queryMix(listed: { ticker: string | null; isin: string | null }[], count: number): CheckParams[] {
  const queries: CheckParams[] = [];
  const pick = (i: number) => listed[(i * 7919) % listed.length]!;
  for (let i = 0; i < count; i++) {
    switch (i % 4) {
      case 0:
        queries.push({ ticker: pick(i).ticker ?? 'NONE' });
        break;
      case 1:
        queries.push({ isin: pick(i).isin ?? isinFor(900_000_000 + i), side: i % 8 === 1 ? 'buy' : 'sell' });
        break;
      case 2:
        queries.push({ ticker: `ZZ${i} US` });
        break;
      default:
        queries.push({ isin: isinFor(900_000_000 + i) });
    }
  }
  return queries;
}

const checkPath = (query: CheckParams) => `/v1/check?${new URLSearchParams(query)}`;

interface Load {
  rps: number;
  errors: number;
  requests: number;
  latencies: number[];
}

function percentile(latencies: number[], p: number): number {
  if (latencies.length === 0) return NaN;
  const sorted = Float64Array.from(latencies).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]!;
}

const median = (values: number[]) => percentile(values, 0.5);

/** One bounded autocannon run; latency of every 2xx response recorded here, in fractional ms. */
function load(
  url: string,
  token: string,
  requests: autocannon.Request[],
  options: { seconds: number; overallRate?: number },
): Promise<Load> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(
      {
        url,
        connections: CHECK_BENCH.connections,
        duration: options.seconds,
        timeout: 5,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
        },
        requests,
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error);
        resolve({
          rps: result['2xx'] / result.duration,
          errors: result.errors + result.non2xx,
          requests: result['2xx'] + result.non2xx,
          latencies,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

function assertNoErrors(name: string, measured: Load): Load {
  if (measured.errors > 0)
    throw new Error(`${measured.errors} of ${measured.requests} ${name} requests failed`);
  return measured;
}

/**
 * Requests one after another on one keep-alive connection (autocannon, one connection and a number
 * of requests, paces them at one per millisecond): each one's latency in ms, and the total.
 */
async function oneAfterAnother(
  url: string,
  token: string,
  requests: readonly { method: string; path: string; body?: string }[],
  count: number,
): Promise<{ latencies: number[]; totalMs: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (req: { method: string; path: string; body?: string }) =>
    new Promise<void>((resolve, reject) => {
      const outgoing = request(
        `${url}${req.path}`,
        {
          method: req.method,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
        },
        (response) => {
          response.resume();
          response.once('end', () =>
            response.statusCode === 200
              ? resolve()
              : reject(new Error(`${req.method} ${req.path} answered ${response.statusCode}`)),
          );
        },
      );
      outgoing.once('error', reject);
      outgoing.end(req.body);
    });
  try {
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const sent = performance.now();
      await send(requests[i % requests.length]!);
      latencies.push(performance.now() - sent);
    }
    return { latencies, totalMs: performance.now() - started };
  } finally {
    agent.destroy();
  }
}

/** The child: one subject on loopback, until its parent disconnects. */
async function serve(subject: Subject): Promise<void> {
  if (subject === 'bare') {
    const bare = express();
    bare.disable('x-powered-by');
    bare.get('/v1/check', (_req, res) => {
      res.json(CONSTANT_ANSWER);
    });
    const { server, url }: { server: Server; url: string } = await startServer(bare, 0, '127.0.0.1');
    process.send!({ url });
    await new Promise<void>((resolve) => process.once('disconnect', resolve));
    await stopServer(server);
    return;
  }
  // As src/main.ts starts it, on the port picked for it.
  const config = loadConfig({ ...process.env, PORT: '0' });
  const database = await openDatabase(config.databaseUrl);
  const service = await startService({
    config,
    database,
    roles: ROLES[subject],
    logger: createLogger({ name: `bench-${subject}` }),
    host: '127.0.0.1',
  });
  process.send!({ url: service.apiUrl });
  await new Promise<void>((resolve) => process.once('disconnect', resolve));
  await service.stop();
  await database.close();
}

async function startSubject(
  subject: Subject,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const profileDir = process.env.CHECK_BENCH_CPU_PROF;
  // stdout is dropped: the service writes its logs there, as in production.
  const child = fork(THIS_FILE, [SERVE_FLAG, subject], {
    env: { ...process.env, ...env },
    execArgv: [
      ...process.execArgv,
      ...(profileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${subject}.cpuprofile`]
        : []),
    ],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    // The worker bundles the workflows as it starts: give it time on a busy machine.
    const timer = setTimeout(
      () => reject(new Error(`the ${subject} server did not start within 120 s`)),
      120_000,
    );
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { url: string }).url);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${subject} server exited with code ${code} before listening`));
    });
  });
  return { child, url };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

export async function benchCheck(): Promise<CheckBenchResult> {
  const infra = await startBenchInfra('check-bench');
  const { confluence, db } = infra;
  const children: ChildProcess[] = [];
  try {
    const pageId = '700002';
    confluence.putPage({
      id: pageId,
      title: 'Restricted Instruments List',
      storage: generateListPage(CHECK_BENCH.rows),
    });
    const token = randomBytes(24).toString('hex');
    const env: Record<string, string> = {
      ...benchServiceEnv(infra, pageId),
      // Several tokens, as in production: auth compares against each of them.
      API_READ_TOKENS: `dashboard=${randomBytes(24).toString('hex')},risk=${randomBytes(24).toString('hex')},trading=${token}`,
      API_ADMIN_TOKENS: `ops=${randomBytes(24).toString('hex')}`,
      NODE_ENV: 'production',
    };
    const config = loadConfig(env);

    // The list is synced once, before the subjects start (the `service` subject's worker then finds it applied).
    const worker = await startBenchWorker(infra, config);
    try {
      const { result } = await worker.sync();
      if (result.added !== CHECK_BENCH.rows)
        throw new Error(`the sync added ${result.added}, expected ${CHECK_BENCH.rows}`);
    } finally {
      await worker.stop();
    }

    const listed = await db('restricted_instruments').where({ is_active: true }).select('ticker', 'isin');
    const queries = queryMix(listed, CHECK_BENCH.queries);
    const singles = queries.map((query) => ({ method: 'GET' as const, path: checkPath(query) }));
    const urls = {} as Record<Subject, string>;
    for (const subject of SUBJECTS) {
      const started = await startSubject(subject, env);
      children.push(started.child);
      urls[subject] = started.url;
    }

    // Each shape answers what the list says before anything is timed.
    for (const shape of SHAPES) {
      const probe = async (query: CheckParams) => {
        const response = await fetch(`${urls[shape]}${checkPath(query)}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (response.status !== 200)
          throw new Error(
            `${shape}: GET ${checkPath(query)} answered ${response.status}: ${await response.text()}`,
          );
        return (await response.json()) as { restricted: boolean };
      };
      if (!(await probe(queries[0]!)).restricted || (await probe(queries[2]!)).restricted)
        throw new Error(`${shape}: the check endpoint does not answer from the synced list`);
    }

    for (const subject of SUBJECTS)
      await load(urls[subject], token, singles, { seconds: CHECK_BENCH.warmupSeconds });
    const rounds: Record<Subject, number>[] = [];
    for (let round = 0; round < CHECK_BENCH.rounds; round++) {
      const order = round % 2 === 0 ? SUBJECTS : [...SUBJECTS].reverse();
      const measured = {} as Record<Subject, number>;
      for (const subject of order) {
        const run = await load(urls[subject], token, singles, { seconds: CHECK_BENCH.roundSeconds });
        measured[subject] = Math.round(assertNoErrors(subject, run).rps);
      }
      rounds.push(measured);
    }

    const round = (value: number, digits: number) => Number(value.toFixed(digits));
    const fixedRate = {} as CheckBenchResult['fixedRate'];
    for (const subject of SUBJECTS) {
      const run = await load(urls[subject], token, singles, {
        seconds: CHECK_BENCH.fixedRateSeconds,
        overallRate: CHECK_BENCH.fixedRate,
      });
      fixedRate[subject] = {
        rate: Math.round(run.rps),
        p99Ms: round(percentile(run.latencies, 0.99), 2),
        errors: run.errors,
      };
    }

    const items = Array.from({ length: CHECK_BENCH.batchItems }, (_, i) => queries[i % queries.length]!);
    const batchRequest = { method: 'POST', path: '/v1/check', body: JSON.stringify({ items }) };
    const batch = {} as CheckBenchResult['batch'];
    for (const shape of SHAPES) {
      await oneAfterAnother(urls[shape], token, [batchRequest], 20);
      const batches = await oneAfterAnother(urls[shape], token, [batchRequest], CHECK_BENCH.batchRequests);
      // The same checks one by one, as many as a batch holds, in the same query mix.
      const sequence = await oneAfterAnother(urls[shape], token, singles, CHECK_BENCH.batchItems);
      batch[shape] = {
        p50Ms: round(percentile(batches.latencies, 0.5), 2),
        p99Ms: round(percentile(batches.latencies, 0.99), 2),
        singlesTotalMs: round(sequence.totalMs, 1),
      };
    }

    return {
      rounds,
      ratio: {
        api: round(median(rounds.map((r) => r.api / r.bare)), 3),
        service: round(median(rounds.map((r) => r.service / r.bare)), 3),
      },
      rps: {
        bare: median(rounds.map((r) => r.bare)),
        api: median(rounds.map((r) => r.api)),
        service: median(rounds.map((r) => r.service)),
      },
      fixedRate,
      batch,
    };
  } finally {
    await Promise.all(children.map(stopChild));
    await infra.stop();
  }
}

const LABELS: Record<Subject, string> = {
  bare: 'bare Express 5',
  api: 'npm run api',
  service: 'npm start',
};

export function printCheckBench(result: CheckBenchResult): void {
  const { connections, rounds, roundSeconds, fixedRate, rows, batchItems } = CHECK_BENCH;
  console.log(
    `check endpoint, ${rows}-instrument list, GET /v1/check with a bearer token (${connections} connections, loopback; ${rounds} rounds of ${roundSeconds} s per subject, alternating order)`,
  );
  console.log(`  baseline          ${LABELS.bare} handler, constant JSON: median ${result.rps.bare} req/s`);
  for (const shape of SHAPES) {
    const perRound = result.rounds.map((r) => (r[shape] / r.bare).toFixed(2)).join(' ');
    console.log(
      `  ${LABELS[shape].padEnd(17)} median ${result.rps[shape]} req/s; ratio ${(result.ratio[shape] * 100).toFixed(1)} % of the baseline (target ≥ 85 %); rounds ${perRound}`,
    );
  }
  for (const subject of SUBJECTS) {
    const fixed = result.fixedRate[subject];
    console.log(
      `  at ${fixedRate} req/s ${`(${LABELS[subject]})`.padEnd(17)} achieved ${fixed.rate} req/s, p99 ${fixed.p99Ms} ms, ${fixed.errors} errors${subject === 'bare' ? '' : '   (target p99 < 5 ms)'}`,
    );
  }
  for (const shape of SHAPES) {
    const b = result.batch[shape];
    console.log(
      `  batch of ${batchItems} (${LABELS[shape]}) p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms (target p50 ≤ 5 ms); ${batchItems} single checks one after another: ${b.singlesTotalMs} ms`,
    );
  }
}

const serveAt = process.argv.indexOf(SERVE_FLAG);
if (serveAt !== -1) await serve(process.argv[serveAt + 1] as Subject);
else if (import.meta.main) printCheckBench(await benchCheck());
