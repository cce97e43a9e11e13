import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { inject } from 'vitest';
import type { syncRestrictedList } from '../../workflows/index.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { DEMO_PAGE_ID } from '../../src/dev/demo-page.ts';
import { startFakeConfluence, type FakeConfluence } from '../../src/dev/fake-confluence.ts';
import { WORKFLOW_TYPE, type SyncWorkflowInput } from '../../src/temporal/contract.ts';
import { ensureSchedule } from '../../src/temporal/schedule.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

/** Read tokens are named `trading`, admin tokens `ops-alice` (the name runs record as requested_by). */
export const FLEET_TOKENS = {
  read: 'fleet-read-token-0123456789abcdef',
  admin: 'fleet-admin-token-0123456789abcdef',
};
const MAX_LIFETIME_MS = 240_000;
const READY_TIMEOUT_MS = 30_000;
const WORKER_SCRIPT = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const API_SCRIPT = fileURLToPath(new URL('./api-process.ts', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FleetProcess {
  name: string;
  process: ChildProcess;
  /** The last lines it printed, for the error message when it misbehaves. */
  output: string[];
  exited: Promise<Exit>;
  /** The worker identity Temporal records (the SDK's default, `<pid>@<hostname>`). */
  identity: string;
  /** SIGKILLed by a test on purpose (not a failed stop). */
  killedOnPurpose: boolean;
}

export interface FleetApi {
  name: string;
  url: string;
  process: FleetProcess;
}

export interface Fleet {
  database: TestDatabase;
  confluence: FakeConfluence;
  config: Config;
  client: Client;
  /** The environment every child process is started with. */
  env: Record<string, string>;
  /** The workers that are alive (a killed one is taken off). */
  workers: FleetProcess[];
  /** The APIs started with the fleet (not those a test starts for itself). */
  apis: FleetApi[];
  startWorker(name: string): Promise<FleetProcess>;
  /** One more API process; `env` overrides the fleet's (e.g. another DATABASE_URL). */
  startApi(name: string, env?: Record<string, string>): Promise<FleetApi>;
  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`; resolves with how it exited. */
  stopProcess(child: FleetProcess, timeoutMs?: number): Promise<Exit>;
  /** SIGKILL, on purpose: resolves when it has exited; a worker is taken off `workers`. */
  kill(child: FleetProcess): Promise<Exit>;
  /** A run started straight on the task queue (with input a trigger cannot pass). */
  startRun(
    input?: Partial<SyncWorkflowInput>,
  ): Promise<WorkflowHandleWithFirstExecutionRunId<typeof syncRestrictedList>>;
  /** Stops every process and removes the database, schedule and fake Confluence. */
  stop(): Promise<void>;
}

const isRunning = (proc: ChildProcess) => proc.exitCode === null && proc.signalCode === null;

/**
 * The service as it runs in production, for one test file: worker processes
 * (worker-process.ts) and API processes (api-process.ts) on one fresh database, one fake
 * Confluence serving the list page `pageId` and one task queue of the run's Temporal dev server,
 * with a paused schedule of their own (only triggers start runs). Everything runs on loopback;
 * every child exits by itself when the test process dies (IPC channel) and after
 * MAX_LIFETIME_MS at the latest.
 */
export async function startFleet(
  options: { workers: number; apis: number; pageId?: string; env?: Record<string, string> } = {
    workers: 2,
    apis: 2,
  },
): Promise<Fleet> {
  const children: FleetProcess[] = [];
  const killAll = () => {
    for (const child of children) if (isRunning(child.process)) child.process.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const database = await createTestDatabase();
  const confluence = await startFakeConfluence();
  const scheduleId = `fleet-schedule-${randomUUID()}`;
  const env: Record<string, string> = {
    CONFLUENCE_URL: `${confluence.url}/wiki`,
    CONFLUENCE_USERNAME: confluence.username,
    CONFLUENCE_API_TOKEN: confluence.apiToken,
    RESTRICTED_INSTRUMENTS_PAGE_URL: confluence.pageUrl(options.pageId ?? DEMO_PAGE_ID),
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `fleet-${randomUUID()}`,
    API_READ_TOKENS: `trading=${FLEET_TOKENS.read}`,
    API_ADMIN_TOKENS: `ops-alice=${FLEET_TOKENS.admin}`,
    RLS_SCHEDULE_ID: scheduleId,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    LOG_LEVEL: 'error',
    RLS_MAX_LIFETIME_MS: String(MAX_LIFETIME_MS),
    // No watch runs in a fleet unless a test starts one (test/fleet/watch-failover.test.ts).
    RESTRICTED_LIST_WATCH_SECONDS: '0',
    ...options.env,
  };
  const config = loadConfig(env);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  await ensureSchedule(client, config, { scheduleId });
  await client.schedule.getHandle(scheduleId).pause('the fleet test triggers its runs');

  /** Starts one of the helper scripts and resolves when its stdout matches `ready`. */
  async function spawnChild(
    name: string,
    script: string,
    childEnv: Record<string, string>,
    ready: RegExp,
  ): Promise<{ child: FleetProcess; match: RegExpExecArray }> {
    // An IPC channel, so that the child exits when this process dies.
    const proc = spawn(process.execPath, [script], {
      env: { ...process.env, ...childEnv },
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
    const exited = new Promise<Exit>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const child: FleetProcess = {
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
        () => reject(new Error(`${name} was not ready within ${READY_TIMEOUT_MS} ms:\n${output.join('\n')}`)),
        READY_TIMEOUT_MS,
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

  async function stopProcess(child: FleetProcess, timeoutMs = 10_000): Promise<Exit> {
    if (!isRunning(child.process)) return child.exited;
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
    const how = await child.exited;
    clearTimeout(timer);
    return how;
  }

  const workers: FleetProcess[] = [];
  const apis: FleetApi[] = [];
  const startWorker = async (name: string) => {
    const { child } = await spawnChild(name, WORKER_SCRIPT, env, /ready/);
    workers.push(child);
    return child;
  };
  const startApi = async (name: string, extraEnv: Record<string, string> = {}): Promise<FleetApi> => {
    const { child, match } = await spawnChild(
      name,
      API_SCRIPT,
      { ...env, ...extraEnv },
      /listening (http:\/\/127\.0\.0\.1:\d+)/,
    );
    return { name, url: match[1]!, process: child };
  };

  const stop = async () => {
    const stopped = await Promise.allSettled(children.map((child) => stopProcess(child)));
    process.removeListener('exit', killAll);
    await client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await connection.close();
    await confluence.close();
    await database.drop();
    // Workers and APIs stop cleanly on SIGTERM; anything else is worth a look (a killed one aside).
    for (const [i, outcome] of stopped.entries()) {
      const child = children[i]!;
      const how = outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Exit | undefined);
      if (how?.code !== 0 && !child.killedOnPurpose)
        console.error(
          `[fleet] ${child.name} did not stop cleanly (${JSON.stringify(how)}):\n${child.output.join('\n')}`,
        );
    }
  };

  try {
    const [, startedApis] = await Promise.all([
      Promise.all(Array.from({ length: options.workers }, (_, i) => startWorker(`worker-${i + 1}`))),
      Promise.all(Array.from({ length: options.apis }, (_, i) => startApi(`api-${i + 1}`))),
    ]);
    apis.push(...startedApis);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    database,
    confluence,
    config,
    client,
    env,
    workers,
    apis,
    startWorker,
    startApi,
    stopProcess,
    async kill(child) {
      child.killedOnPurpose = true;
      child.process.kill('SIGKILL');
      const how = await child.exited;
      const index = workers.indexOf(child);
      if (index !== -1) workers.splice(index, 1);
      return how;
    },
    startRun: (input = {}) =>
      client.workflow.start<typeof syncRestrictedList>(WORKFLOW_TYPE, {
        taskQueue: config.temporal.taskQueue,
        workflowId: `fleet-sync-${randomUUID()}`,
        args: [{ trigger: 'manual', ...input }],
      }),
    stop,
  };
}

/** A JSON request to one of the fleet's APIs, with the read token unless told otherwise (`null`: none). */
export async function request(
  url: string,
  options: { method?: string; token?: string | null } = {},
): Promise<{ status: number; body: any }> {
  const token = options.token === undefined ? FLEET_TOKENS.read : options.token;
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: await response.json() };
}

export interface CheckAnswer {
  /** Index of the API that answered. */
  api: number;
  ticker: string;
  /** 0 when no answer came (network error, timeout). */
  status: number;
  restricted?: boolean;
  listVersion?: number;
  ms: number;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `ratePerSecond` GET /v1/check requests for `durationMs`, round-robin over the APIs and over
 * `tickers`, at most `concurrency` at a time; resolves with every answer once the last is in.
 */
export async function checkLoad(
  apis: readonly FleetApi[],
  options: { tickers: readonly string[]; durationMs: number; ratePerSecond: number; concurrency: number },
): Promise<{ answers: CheckAnswer[]; elapsedMs: number }> {
  const { tickers } = options;
  const answers: CheckAnswer[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let issued = 0;
  const issue = (n: number) => {
    const api = n % apis.length;
    const ticker = tickers[n % tickers.length]!;
    const sentAt = performance.now();
    const done = fetch(`${apis[api]!.url}/v1/check?ticker=${encodeURIComponent(ticker)}`, {
      headers: { authorization: `Bearer ${FLEET_TOKENS.read}` },
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
