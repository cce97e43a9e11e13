import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { DEMO_PAGE_ID, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { startFakeConfluence, type FakeConfluence } from '../../src/dev/fake-confluence.ts';
import type { syncRestrictedList } from '../../workflows/index.ts';
import { assertSucceeded, WORKFLOW_TYPE, type SyncWorkflowInput } from '../../src/temporal/contract.ts';
import { ensureSchedule } from '../../src/temporal/schedule.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

// The service as it runs in production: several worker processes and several API processes on
// one database and one Temporal namespace. Everything runs on loopback; every child process is
// stopped in afterAll, exits by itself when this test process dies (IPC channel) and after
// MAX_LIFETIME_MS at the latest.

const TOKENS = { read: 'fleet-read-token-0123456789abcdef', admin: 'fleet-admin-token-0123456789abcdef' };
const MAX_LIFETIME_MS = 240_000;
const WORKER_SCRIPT = fileURLToPath(new URL('../helpers/worker-process.ts', import.meta.url));
const API_SCRIPT = fileURLToPath(new URL('../helpers/api-process.ts', import.meta.url));
const BODY_DOWNLOAD = `/api/v2/pages/${DEMO_PAGE_ID}?body-format`;

/** Instruments the page may list; checks ask about all of them (and one never listed). */
const POOL = ['AAPL', 'MSFT', 'NVDA', 'TSLA', 'IBM', 'ORCL', 'AMZN', 'GOOG', 'META', 'NFLX', 'INTC', 'AMD'];
const NEVER_LISTED = 'KO';
const FIRST_LIST = POOL.slice(0, 6);

const LOAD = { durationMs: 20_000, ratePerSecond: 500, concurrency: 32 };

function listPage(tickers: readonly string[]): string {
  const rows = tickers
    .map(
      (t) =>
        `<tr><td><p>${t}</p></td><td><p>${t} Inc.</p></td><td><p>Fleet test</p></td><td><p>Full</p></td></tr>`,
    )
    .join('');
  return `<table><tbody><tr><th><p>Ticker</p></th><th><p>Name</p></th><th><p>Reason</p></th><th><p>Restriction Type</p></th></tr>${rows}</tbody></table>`;
}

/**
 * The next list: the oldest one or two entries leave, one or two from the pool join. Never more
 * than two removals and never the whole list, so the removal guard never holds a run.
 */
function nextList(list: readonly string[]): string[] {
  const outside = POOL.filter((ticker) => !list.includes(ticker));
  const removeCount = list.length > 5 ? 2 : list.length > 3 ? 1 : 0;
  const addCount = list.length < 6 ? 2 : 1;
  return [...list.slice(removeCount), ...outside.slice(0, addCount)];
}

const sorted = (tickers: Iterable<string>) => [...tickers].sort();
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every `intervalMs` until `check` returns a value, or fails after `timeoutMs`. */
async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await delay(options.intervalMs ?? 50);
  }
}

interface Child {
  name: string;
  process: ChildProcess;
  /** The last lines it printed, for the error message when it misbehaves. */
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The worker identity Temporal records (the SDK's default, `<pid>@<hostname>`). */
  identity: string;
  /** SIGKILLed by a test on purpose (not a failed stop). */
  killedOnPurpose: boolean;
}

/** Starts one of the helper scripts and resolves when its stdout matches `ready`. */
async function spawnChild(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: Child; match: RegExpExecArray }> {
  // An IPC channel, so that the child exits when this process dies.
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(
      ...chunk
        .toString()
        .split('\n')
        .filter((line) => line !== ''),
    );
    output.splice(0, Math.max(0, output.length - 40));
  };
  proc.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const child: Child = {
    name,
    process: proc,
    output,
    exited,
    identity: `${proc.pid}@${hostname()}`,
    killedOnPurpose: false,
  };
  children.push(child);
  let stdout = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} was not ready within 30 s:\n${output.join('\n')}`)),
      30_000,
    );
    proc.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      stdout += chunk.toString();
      const found = ready.exec(stdout);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output.join('\n')}`));
    });
  });
  return { child, match };
}

/** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`; resolves with how it exited. */
async function stopChild(
  child: Child,
  timeoutMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.exited;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  const how = await child.exited;
  clearTimeout(timer);
  return how;
}

const children: Child[] = [];
const killAll = () => {
  for (const child of children)
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
};

interface Api {
  name: string;
  url: string;
  child: Child;
}

async function request(
  url: string,
  options: { method?: string; token?: string | null } = {},
): Promise<{ status: number; body: any }> {
  const token = options.token === undefined ? TOKENS.read : options.token;
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: await response.json() };
}

interface Answer {
  api: number;
  ticker: string;
  status: number;
  restricted?: boolean;
  listVersion?: number;
  ms: number;
}

/** `ratePerSecond` GET /v1/check requests for `durationMs`, round-robin over the APIs, at most `concurrency` at a time. */
async function checkLoad(
  apis: readonly Api[],
  options: typeof LOAD,
): Promise<{ answers: Answer[]; elapsedMs: number }> {
  const tickers = [...POOL, NEVER_LISTED];
  const answers: Answer[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let issued = 0;
  const issue = (n: number) => {
    const api = n % apis.length;
    const ticker = tickers[n % tickers.length]!;
    const sentAt = performance.now();
    const done = fetch(`${apis[api]!.url}/v1/check?ticker=${encodeURIComponent(ticker)}`, {
      headers: { authorization: `Bearer ${TOKENS.read}` },
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (response) => {
        const body = (await response.json()) as { restricted?: boolean; list_version?: number };
        answers.push({
          api,
          ticker,
          status: response.status,
          restricted: body.restricted,
          listVersion: body.list_version,
          ms: performance.now() - sentAt,
        });
      })
      .catch(() => {
        answers.push({ api, ticker, status: 0, ms: performance.now() - sentAt });
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  while (performance.now() - started < options.durationMs) {
    const due = Math.floor(((performance.now() - started) / 1000) * options.ratePerSecond);
    while (issued < due && inFlight.size < options.concurrency) issue(issued++);
    // Pacing, not synchronisation: the next slots are a few milliseconds away.
    await delay(2);
  }
  await Promise.all(inFlight);
  return { answers, elapsedMs: performance.now() - started };
}

describe('the service as a fleet: two workers and two APIs on one database', () => {
  let database: TestDatabase;
  let confluence: FakeConfluence;
  let config: Config;
  let connection: Connection;
  let client: Client;
  let env: Record<string, string>;
  const scheduleId = `fleet-schedule-${randomUUID()}`;
  const workers: Child[] = [];
  const apis: Api[] = [];
  /** Every applied list version and the tickers it restricts (what was put on the page for it). */
  const lists = new Map<number, ReadonlySet<string>>();
  let current: string[] = [];
  let version = 0;

  const putList = (tickers: readonly string[]) =>
    confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: listPage(tickers) });

  /** Records the list a finished run applied; every run of this file changes the list. */
  function applied(result: { listVersion: number }, tickers: readonly string[]) {
    expect(result.listVersion).toBe(version + 1);
    version = result.listVersion;
    current = [...tickers];
    lists.set(version, new Set(tickers));
  }

  /** A run started straight on the task queue (with input a trigger cannot pass). */
  const startRun = (input: Partial<SyncWorkflowInput> = {}) =>
    client.workflow.start<typeof syncRestrictedList>(WORKFLOW_TYPE, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `fleet-sync-${randomUUID()}`,
      args: [{ trigger: 'manual', ...input }],
    });

  const startApi = async (name: string, extraEnv: Record<string, string> = {}): Promise<Api> => {
    const { child, match } = await spawnChild(
      name,
      API_SCRIPT,
      { ...env, ...extraEnv },
      /listening (http:\/\/127\.0\.0\.1:\d+)/,
    );
    return { name, url: match[1]!, child };
  };
  const startWorker = async (name: string) => (await spawnChild(name, WORKER_SCRIPT, env, /ready/)).child;

  beforeAll(async () => {
    process.once('exit', killAll);
    database = await createTestDatabase();
    confluence = await startFakeConfluence();
    putList(FIRST_LIST);
    env = {
      CONFLUENCE_URL: `${confluence.url}/wiki`,
      CONFLUENCE_USERNAME: confluence.username,
      CONFLUENCE_API_TOKEN: confluence.apiToken,
      RESTRICTED_INSTRUMENTS_PAGE_URL: confluence.pageUrl(DEMO_PAGE_ID),
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `fleet-${randomUUID()}`,
      API_READ_TOKENS: `trading=${TOKENS.read}`,
      API_ADMIN_TOKENS: `ops-alice=${TOKENS.admin}`,
      RLS_SCHEDULE_ID: scheduleId,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      LOG_LEVEL: 'error',
      RLS_MAX_LIFETIME_MS: String(MAX_LIFETIME_MS),
    };
    config = loadConfig(env);
    connection = await Connection.connect({ address: config.temporal.address });
    client = new Client({ connection, namespace: config.temporal.namespace });
    // One schedule for the fleet, paused: only triggers start runs.
    await ensureSchedule(client, config, { scheduleId });
    await client.schedule.getHandle(scheduleId).pause('the fleet test triggers its runs');

    const started = await Promise.all([
      startWorker('worker-1'),
      startWorker('worker-2'),
      startApi('api-1'),
      startApi('api-2'),
    ]);
    workers.push(started[0], started[1]);
    apis.push(started[2], started[3]);
  });

  afterAll(async () => {
    const stopped = await Promise.allSettled(children.map((child) => stopChild(child)));
    process.removeListener('exit', killAll);
    await client?.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await connection?.close();
    await confluence?.close();
    await database?.drop();
    // Workers and APIs stop cleanly on SIGTERM; anything else is worth a look (the killed worker aside).
    for (const [i, outcome] of stopped.entries()) {
      const child = children[i]!;
      const how = outcome.status === 'fulfilled' ? outcome.value : outcome.reason;
      if (how?.code !== 0 && !child.killedOnPurpose)
        console.error(
          `[fleet] ${child.name} did not stop cleanly (${JSON.stringify(how)}):\n${child.output.join('\n')}`,
        );
    }
  });

  it('before the first sync no API is ready, and checks answer 503, never "not restricted"', async () => {
    for (const api of apis) {
      const ready = await request(`${api.url}/readyz`, { token: null });
      expect(ready).toMatchObject({
        status: 503,
        body: { ready: false, database: 'ok', list_version: null },
      });
      const check = await request(`${api.url}/v1/check?ticker=AAPL`);
      expect(check).toMatchObject({ status: 503, body: { error: { code: 'list_unavailable' } } });
      expect((await request(`${api.url}/v1/check?ticker=AAPL`, { token: null })).status).toBe(401);
    }
  });

  it('runs one sync at a time: triggers through both APIs at once return the same run', async () => {
    // A slow page download keeps the first run busy while the other trigger arrives.
    confluence.fail({ delayMs: 3_000, pathIncludes: BODY_DOWNLOAD });
    const triggers = await Promise.all(
      apis.map((api) => request(`${api.url}/v1/sync`, { method: 'POST', token: TOKENS.admin })),
    );
    for (const trigger of triggers) expect(trigger.status).toBe(202);
    const [first, second] = triggers.map(
      (trigger) => trigger.body as { workflow_id: string; run_id: string },
    );
    expect(second).toMatchObject({ workflow_id: first!.workflow_id, run_id: first!.run_id });
    // Triggering needs an admin token, on every API.
    for (const api of apis)
      expect((await request(`${api.url}/v1/sync`, { method: 'POST' })).status).toBe(403);

    const result = assertSucceeded(
      await client.workflow.getHandle<typeof syncRestrictedList>(first!.workflow_id, first!.run_id).result(),
    );
    expect(result).toMatchObject({
      status: 'succeeded',
      runId: first!.run_id,
      added: FIRST_LIST.length,
      removed: 0,
    });
    applied(result, FIRST_LIST);
    const runs = await database.db('sync_runs').select('id', 'status', 'requested_by');
    expect(runs).toEqual([{ id: first!.run_id, status: 'succeeded', requested_by: 'ops-alice' }]);
  }, 60_000);

  it("a sync applied through one worker is visible on both APIs' checks right after the run finishes", async () => {
    const delays: number[][] = apis.map(() => []);
    for (let round = 0; round < 3; round++) {
      const next = nextList(current);
      const changed = [
        ...next.filter((t) => !current.includes(t)),
        ...current.filter((t) => !next.includes(t)),
      ];
      putList(next);
      const result = assertSucceeded(await (await startRun()).result());
      const finishedAt = performance.now();
      applied(result, next);
      await Promise.all(
        apis.map(async (api, i) => {
          await pollUntil(
            `${api.name} to answer from list version ${result.listVersion}`,
            async () => {
              const answers = await Promise.all(
                changed.map((ticker) => request(`${api.url}/v1/check?ticker=${ticker}`)),
              );
              return answers.every((a) => a.body.list_version === result.listVersion) ? answers : undefined;
            },
            { timeoutMs: 5_000, intervalMs: 10 },
          ).then((answers) => {
            delays[i]!.push(performance.now() - finishedAt);
            // The new list, whole: the added tickers restricted, the removed ones no longer.
            expect(answers.map((a) => a.body.restricted)).toEqual(changed.map((t) => next.includes(t)));
          });
        }),
      );
    }
    console.log(
      `[fleet] propagation after the workflow result arrived (3 syncs): ${apis.map((api, i) => `${api.name} ${delays[i]!.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`).join('; ')}`,
    );
    // Generous: the index reloads on NOTIFY within milliseconds; this bound only catches a lost
    // notification (the safety-net poll runs every 5 s).
    for (const ms of delays.flat()) expect(ms).toBeLessThan(5_000);
  }, 60_000);

  it('an API process started later loads the current list before it reports ready', async () => {
    const late = await startApi('api-late');
    // Its very first answers already come from the current list.
    const ready = await request(`${late.url}/readyz`, { token: null });
    expect(ready).toMatchObject({
      status: 200,
      body: { ready: true, list_version: version, instrument_count: current.length },
    });
    const [listed, notListed] = [current[0]!, POOL.find((t) => !current.includes(t))!];
    expect((await request(`${late.url}/v1/check?ticker=${listed}`)).body).toMatchObject({
      restricted: true,
      list_version: version,
    });
    expect((await request(`${late.url}/v1/check?ticker=${notListed}`)).body).toMatchObject({
      restricted: false,
      list_version: version,
    });
    expect((await request(`${late.url}/v1/check?ticker=${listed}`, { token: 'not-a-token' })).status).toBe(
      401,
    );
    // It stops cleanly on SIGTERM.
    expect(await stopChild(late.child)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('under load while syncs add and remove instruments, every check answers from one whole list', async () => {
    const loadRun = checkLoad(apis, LOAD);
    let loading = true;
    void loadRun.finally(() => (loading = false)).catch(() => undefined);
    let syncs = 0;
    try {
      while (loading) {
        const next = nextList(current);
        putList(next);
        // Through the APIs in turn, the way an operator triggers a run.
        const api = apis[syncs % apis.length]!;
        const finished = await request(`${api.url}/v1/sync?wait=true`, {
          method: 'POST',
          token: TOKENS.admin,
        });
        expect(finished).toMatchObject({ status: 200, body: { status: 'succeeded' } });
        applied({ listVersion: finished.body.list_version as number }, next);
        const list = await request(`${apis[(syncs + 1) % apis.length]!.url}/v1/restricted`);
        expect(sorted(list.body.instruments.map((i: { ticker: string }) => i.ticker))).toEqual(sorted(next));
        syncs += 1;
      }
    } finally {
      // Never leave the load running behind a failed assertion.
      await loadRun;
    }
    const { answers, elapsedMs } = await loadRun;

    const byStatus = new Map<number, number>();
    for (const answer of answers) byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    const served = answers.filter((a) => a.status === 200);
    const unknownVersion = served.filter((a) => a.listVersion === undefined || !lists.has(a.listVersion));
    const wrong = served.filter(
      (a) => a.listVersion !== undefined && lists.get(a.listVersion)?.has(a.ticker) !== a.restricted,
    );
    const versionsSeen = [...new Set(served.map((a) => a.listVersion!))].sort((a, b) => a - b);
    const latencies = served.map((a) => a.ms).sort((a, b) => a - b);
    const percentile = (p: number) =>
      (latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? 0).toFixed(1);
    console.log(
      `[fleet] load: ${served.length} checks served in ${(elapsedMs / 1000).toFixed(1)} s (${((served.length * 1000) / elapsedMs).toFixed(0)}/s; ` +
        `${apis.map((api, i) => `${api.name} ${served.filter((a) => a.api === i).length}`).join(', ')}), ` +
        `statuses ${JSON.stringify(Object.fromEntries(byStatus))}, errors ${answers.length - served.length}, ` +
        `wrong answers ${wrong.length}, unknown versions ${unknownVersion.length}, ` +
        `${syncs} syncs applied, versions seen ${versionsSeen.join(',')}, latency p50 ${percentile(50)} ms p99 ${percentile(99)} ms`,
    );

    expect(Object.fromEntries(byStatus)).toEqual({ 200: answers.length });
    expect(unknownVersion).toEqual([]);
    expect(wrong.slice(0, 5)).toEqual([]);
    // The load really overlapped several syncs, and was not trivially small.
    expect(syncs).toBeGreaterThanOrEqual(3);
    expect(versionsSeen.length).toBeGreaterThanOrEqual(3);
    expect(served.length).toBeGreaterThan(LOAD.durationMs / 10);
  }, 90_000);

  it('a worker killed in the middle of a sync: the other worker finishes it with the same result', async () => {
    const next = nextList(current);
    const expected = {
      added: next.filter((t) => !current.includes(t)).length,
      removed: current.filter((t) => !next.includes(t)).length,
    };
    putList(next);
    // The download hangs, so the run is inside its fetch step when its worker dies.
    confluence.fail({ delayMs: 15_000, pathIncludes: BODY_DOWNLOAD });
    const downloadsBefore = confluence.requests.filter((r) => r.path.includes(BODY_DOWNLOAD)).length;
    // A short attempt timeout, so the killed worker's attempt is retried within seconds.
    const handle = await startRun({ activityStartToCloseMs: 3_000 });
    const holder = await pollUntil(
      'a worker to start the fetch step',
      async () => {
        const { raw } = await handle.describe();
        const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'fetchPages');
        return pending?.lastWorkerIdentity ? pending.lastWorkerIdentity : undefined;
      },
      { timeoutMs: 10_000 },
    );
    await pollUntil(
      'the download to start',
      async () =>
        confluence.requests.filter((r) => r.path.includes(BODY_DOWNLOAD)).length > downloadsBefore
          ? true
          : undefined,
      {
        timeoutMs: 10_000,
      },
    );
    const victim = workers.find((worker) => worker.identity === holder);
    const survivor = workers.find((worker) => worker !== victim);
    expect(
      victim,
      `the fetch step runs on ${holder}, not on one of ${workers.map((w) => w.identity).join(', ')}`,
    ).toBeDefined();
    const killedAt = performance.now();
    victim!.killedOnPurpose = true;
    victim!.process.kill('SIGKILL');
    expect(await victim!.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const result = assertSucceeded(await handle.result());
    console.log(
      `[fleet] the run finished ${((performance.now() - killedAt) / 1000).toFixed(1)} s after its worker was killed`,
    );
    expect(result).toMatchObject({ status: 'succeeded', ...expected, instrumentCount: next.length });
    applied(result, next);
    // The fetch step's last attempt ran on the surviving worker.
    const history = await handle.fetchHistory();
    const fetchStarts = (history.events ?? [])
      .filter((event) => event.activityTaskStartedEventAttributes)
      .slice(0, 1);
    expect(fetchStarts.map((event) => event.activityTaskStartedEventAttributes!.identity)).toEqual([
      survivor!.identity,
    ]);
    expect(fetchStarts[0]!.activityTaskStartedEventAttributes!.attempt).toBeGreaterThan(1);
    const active = await database.db('restricted_instruments').where({ is_active: true }).pluck('ticker');
    expect(sorted(active)).toEqual(sorted(next));
    expect((await database.db('sync_runs').where({ id: result.runId }).first()).status).toBe('succeeded');
  }, 60_000);
});
