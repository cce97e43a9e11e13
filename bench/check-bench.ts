/**
 * Check endpoint benchmark on real parts: embedded Postgres, a Temporal dev server, the fake
 * Confluence serving a generated list, a worker that syncs it; then the API as production builds
 * it (check index, auth with read tokens, request logs, metrics) and, as the baseline in the same
 * run, a bare Express 5 app answering a constant check-sized JSON body. Both servers run in a child
 * process (this file with `--serve`) so that autocannon, here, does not share their event loop.
 * Everything listens on 127.0.0.1 only; every load is bounded in time.
 *
 * Figures: maximum throughput of each (closed loop, fixed connections), the ratio check/bare,
 * and the check endpoint's p99 latency at a fixed 1,000 requests/s. Latencies are taken from each
 * response (sub-millisecond), not from autocannon's whole-millisecond histogram.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import autocannon from 'autocannon';
import express from 'express';
import type { syncRestrictedList } from '../workflows/index.ts';
import { startServer, stopServer } from '../src/api/server.ts';
import { buildApi, buildWorker, createStores } from '../src/composition.ts';
import { loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/knex.ts';
import { createLogger } from '../src/logger.ts';
import { isinCheckDigit } from '../src/parser/normalise.ts';
import { assertSucceeded, WORKFLOW_TYPE } from '../src/temporal/contract.ts';
import { startBenchInfra } from './infra.ts';
import { generateListPage } from './generate-page.ts';

export interface CheckBenchResult {
  bare: { rps: number; p99Ms: number };
  check: { rps: number; p99Ms: number };
  /** check rps / bare rps. */
  ratio: number;
  /**
   * The check endpoint at a fixed overall rate: the rate achieved, its p99, failed requests; and
   * the bare handler's p99 at the same rate (what the machine and the load generator add).
   */
  fixedRate: { rate: number; p99Ms: number; errors: number; bareP99Ms: number };
}

export const CHECK_BENCH = {
  rows: 5_000,
  connections: 10,
  warmupSeconds: 2,
  seconds: 10,
  fixedRate: 1_000,
  /** Distinct queries cycled through: listed tickers, listed ISINs with a side, unlisted tickers, unlisted ISINs. */
  queries: 200,
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

/** The query mix: listed instruments by ticker and by ISIN, some with a side, and unlisted ones. */
function queryPaths(listed: { ticker: string | null; isin: string | null }[], count: number): string[] {
  const paths: string[] = [];
  const pick = (i: number) => listed[(i * 7919) % listed.length]!;
  for (let i = 0; i < count; i++) {
    const query = new URLSearchParams();
    switch (i % 4) {
      case 0:
        query.set('ticker', pick(i).ticker ?? 'NONE');
        break;
      case 1:
        query.set('isin', pick(i).isin ?? isinFor(900_000_000 + i));
        query.set('side', i % 8 === 1 ? 'buy' : 'sell');
        break;
      case 2:
        query.set('ticker', `ZZ${i} US`);
        break;
      default:
        query.set('isin', isinFor(900_000_000 + i));
    }
    paths.push(`/v1/check?${query}`);
  }
  return paths;
}

interface Load {
  rps: number;
  p99Ms: number;
  errors: number;
  requests: number;
  latencies: number[];
  seconds: number;
}

/** Two runs against the same server as one: requests over total time, p99 of all latencies. */
function combine(a: Load, b: Load): Load {
  const latencies = a.latencies.concat(b.latencies);
  const seconds = a.seconds + b.seconds;
  const ok = a.rps * a.seconds + b.rps * b.seconds;
  return {
    rps: ok / seconds,
    p99Ms: p99(latencies),
    errors: a.errors + b.errors,
    requests: a.requests + b.requests,
    latencies,
    seconds,
  };
}

function p99(latencies: number[]): number {
  if (latencies.length === 0) return NaN;
  const sorted = Float64Array.from(latencies).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/** One bounded autocannon run; latency of every 2xx response recorded here, in fractional ms. */
function load(
  url: string,
  paths: string[],
  token: string,
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
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        requests: paths.map((path) => ({ method: 'GET', path })),
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error);
        resolve({
          rps: result['2xx'] / result.duration,
          p99Ms: p99(latencies),
          errors: result.errors + result.non2xx,
          requests: result['2xx'] + result.non2xx,
          latencies,
          seconds: result.duration,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/** The child: the real API and the bare app on loopback, until told to stop. */
async function serve(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL!;
  const config = loadConfig(process.env);
  const db = createDb(databaseUrl);
  const logger = createLogger({ name: 'bench-api' });
  const { app: api, checkIndex } = buildApi({
    config,
    stores: createStores({ db, url: databaseUrl }),
    logger,
  });
  await checkIndex.start();
  const bare = express();
  bare.disable('x-powered-by');
  bare.get('/v1/check', (_req, res) => {
    res.json(CONSTANT_ANSWER);
  });
  const servers: Server[] = [];
  const apiServer = await startServer(api, 0, '127.0.0.1');
  servers.push(apiServer.server);
  const bareServer = await startServer(bare, 0, '127.0.0.1');
  servers.push(bareServer.server);
  process.send!({ apiUrl: apiServer.url, bareUrl: bareServer.url });
  await new Promise<void>((resolve) => process.once('disconnect', resolve));
  for (const server of servers) await stopServer(server);
  await checkIndex.stop();
  await db.destroy();
}

async function startServers(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; apiUrl: string; bareUrl: string }> {
  // stdout is dropped: the API writes its request logs there, as in production.
  const child = fork(THIS_FILE, [SERVE_FLAG], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const urls = await new Promise<{ apiUrl: string; bareUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bench servers did not start within 60 s')), 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as { apiUrl: string; bareUrl: string });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bench servers exited with code ${code} before listening`));
    });
  });
  return { child, ...urls };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function benchCheck(): Promise<CheckBenchResult> {
  const infra = await startBenchInfra('check-bench');
  const { postgres, temporal, confluence, db } = infra;
  let child: ChildProcess | null = null;
  try {
    const pageId = '700002';
    confluence.putPage({
      id: pageId,
      title: 'Restricted Instruments List',
      storage: generateListPage(CHECK_BENCH.rows),
    });
    const token = randomBytes(24).toString('hex');
    const env: Record<string, string> = {
      CONFLUENCE_URL: confluence.url,
      CONFLUENCE_USERNAME: confluence.username,
      CONFLUENCE_API_TOKEN: confluence.apiToken,
      RESTRICTED_INSTRUMENTS_PAGE_URL: pageId,
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: `bench-${randomUUID()}`,
      // Several tokens, as in production: auth compares against each of them.
      API_READ_TOKENS: `dashboard=${randomBytes(24).toString('hex')},risk=${randomBytes(24).toString('hex')},trading=${token}`,
      API_ADMIN_TOKENS: `ops=${randomBytes(24).toString('hex')}`,
    };
    const config = loadConfig(env);

    const nativeConnection = await NativeConnection.connect({ address: temporal.address });
    const worker = await buildWorker({
      config,
      stores: createStores({ db, url: postgres.url }),
      connection: nativeConnection,
    });
    const running = worker.run();
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const result = assertSucceeded(
        await new Client({ connection }).workflow.execute<typeof syncRestrictedList>(WORKFLOW_TYPE, {
          taskQueue: config.temporal.taskQueue,
          workflowId: `bench-${randomUUID()}`,
          args: [{ trigger: 'manual' }],
        }),
      );
      if (result.added !== CHECK_BENCH.rows)
        throw new Error(`the sync added ${result.added}, expected ${CHECK_BENCH.rows}`);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    }
    // Checks do not use Temporal: stopped now, it takes no CPU from the measurement.
    await temporal.stop();

    const listed = await db('restricted_instruments').where({ is_active: true }).select('ticker', 'isin');
    const paths = queryPaths(listed, CHECK_BENCH.queries);
    const servers = await startServers(env);
    child = servers.child;

    // The check answers what the list says before anything is timed.
    const probe = async (path: string) => {
      const response = await fetch(`${servers.apiUrl}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (response.status !== 200)
        throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { restricted: boolean };
    };
    if (!(await probe(paths[0]!)).restricted || (await probe(paths[2]!)).restricted)
      throw new Error('the check endpoint does not answer from the synced list');

    const warm = (url: string) => load(url, paths, token, { seconds: CHECK_BENCH.warmupSeconds });
    await warm(servers.bareUrl);
    await warm(servers.apiUrl);
    // Maximum throughput in A-B-B-A halves, so that drift in the machine's load falls on both alike.
    const half = { seconds: CHECK_BENCH.seconds / 2 };
    const bare1 = await load(servers.bareUrl, paths, token, half);
    const check1 = await load(servers.apiUrl, paths, token, half);
    const check2 = await load(servers.apiUrl, paths, token, half);
    const bare2 = await load(servers.bareUrl, paths, token, half);
    const bare = combine(bare1, bare2);
    const check = combine(check1, check2);
    for (const [name, measured] of [
      ['bare', bare],
      ['check', check],
    ] as const) {
      if (measured.errors > 0)
        throw new Error(`${measured.errors} of ${measured.requests} ${name} requests failed`);
    }
    const fixed = await load(servers.apiUrl, paths, token, {
      seconds: CHECK_BENCH.seconds,
      overallRate: CHECK_BENCH.fixedRate,
    });
    const bareFixed = await load(servers.bareUrl, paths, token, {
      seconds: CHECK_BENCH.seconds,
      overallRate: CHECK_BENCH.fixedRate,
    });
    const round = (value: number, digits: number) => Number(value.toFixed(digits));
    return {
      bare: { rps: Math.round(bare.rps), p99Ms: round(bare.p99Ms, 2) },
      check: { rps: Math.round(check.rps), p99Ms: round(check.p99Ms, 2) },
      ratio: round(check.rps / bare.rps, 3),
      fixedRate: {
        rate: Math.round(fixed.rps),
        p99Ms: round(fixed.p99Ms, 2),
        errors: fixed.errors,
        bareP99Ms: round(bareFixed.p99Ms, 2),
      },
    };
  } finally {
    if (child) await stopChild(child);
    await infra.stop();
  }
}

export function printCheckBench(result: CheckBenchResult): void {
  const { connections, seconds, fixedRate, rows } = CHECK_BENCH;
  console.log(
    `check endpoint, ${rows}-instrument list, GET /v1/check with a bearer token (${connections} connections, ${seconds} s each, loopback)`,
  );
  console.log(
    `  baseline          bare Express 5 handler, constant JSON: ${result.bare.rps} req/s, p99 ${result.bare.p99Ms} ms`,
  );
  console.log(`  check             ${result.check.rps} req/s, p99 ${result.check.p99Ms} ms`);
  console.log(`  ratio             ${(result.ratio * 100).toFixed(1)} % of the baseline   (target ≥ 70 %)`);
  console.log(
    `  at ${fixedRate} req/s      achieved ${result.fixedRate.rate} req/s, p99 ${result.fixedRate.p99Ms} ms, ${result.fixedRate.errors} errors   (target p99 < 5 ms; bare handler p99 ${result.fixedRate.bareP99Ms} ms)`,
  );
}

if (process.argv.includes(SERVE_FLAG)) await serve();
else if (import.meta.main) printCheckBench(await benchCheck());
