/**
 * The API as the service builds it (buildApi), on in-memory stores and a fake SyncControl: no
 * Postgres, no Temporal, no worker. A test seeds what it needs through the stores' public interface
 * (an applied list, a held, failed or running run) and talks HTTP to a real port.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { startServer, stopServer } from '../../src/api/server.ts';
import { buildApi } from '../../src/composition.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { DesiredInstrument, RestrictionType, SyncTrigger } from '../../src/domain/index.ts';
import { countDiff, diffInstruments } from '../../src/sync/diff.ts';
import { formClient } from '../browser/form-client.ts';
import { createMemoryStores, type MemoryStores } from '../fakes/memory-stores.ts';
import { createFakeSyncControl, type FakeSyncControl } from '../fakes/sync-control.ts';
import { instrument as parsedInstrument } from './instruments.ts';

export const TOKENS = {
  read: 'test-read-token-0123456789abcdef',
  admin: 'test-admin-token-0123456789abcdef',
};

export const DEMO_PAGE = {
  id: '163841',
  title: 'Restricted Instruments List',
  version: 1,
  url: 'https://example.atlassian.net/wiki/spaces/COMP/pages/163841/Restricted+Instruments+List',
  editedBy: 'Compliance Officer',
};

export function instrument(
  ticker: string | null,
  isin: string | null,
  name: string | null,
  restriction_type: RestrictionType,
  reason: string | null,
  extra: Partial<DesiredInstrument> = {},
): DesiredInstrument {
  return {
    ...parsedInstrument({ ticker, isin, name, restriction_type, reason }),
    source_page_id: DEMO_PAGE.id,
    ...extra,
  };
}

/** What the demo page lists (src/dev/demo-page.ts), as the parser reads it. */
export const DEMO_LIST: readonly DesiredInstrument[] = [
  instrument('AAPL', 'US0378331005', 'Apple Inc.', 'full', 'Inside information'),
  instrument('MSFT', 'US5949181045', 'Microsoft Corp.', 'buy_only', 'Underwriting mandate'),
  instrument('NVDA', 'US67066G1040', 'NVIDIA Corp.', 'full', 'Advisory mandate'),
  instrument('TSLA', 'US88160R1014', 'Tesla, Inc.', 'sell_only', 'Research blackout'),
];

export interface Page {
  id: string;
  title: string;
  version: number;
  url: string | null;
  editedBy: string | null;
}

interface RunOptions {
  runId?: string;
  workflowId?: string;
  trigger?: SyncTrigger;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

export interface ApiOnFakes {
  url: string;
  config: Config;
  stores: MemoryStores;
  sync: FakeSyncControl;
  tokens: typeof TOKENS;
  /** The API's clock (and the stores'): real time, moved by `advance`. */
  clock: { now(): Date; advance(ms: number): void };
  /** Every line the API logged at warn or above, parsed. */
  logs: { level: number; msg: string; err?: { message: string } }[];
  request(
    method: string,
    path: string,
    options?: {
      token?: string | null;
      body?: unknown;
      raw?: string;
      contentType?: string;
      headers?: Record<string, string>;
    },
  ): Promise<Answer>;
  get(path: string, token?: string | null): Promise<{ status: number; body: any }>;
  post(path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  browser(): ReturnType<typeof formClient>;
  /** A successful sync of `list` from `pages`, applied as the apply activity does, and loaded for checks. */
  applyList(
    list?: readonly DesiredInstrument[],
    options?: RunOptions & { pages?: Page[] },
  ): Promise<{ runId: string; workflowId: string; listVersion: number }>;
  /** A run in progress. */
  startRun(options?: RunOptions): Promise<{ runId: string; workflowId: string }>;
  /** A run held by the removal guard. */
  holdRun(reason: string, options?: RunOptions): Promise<{ runId: string; workflowId: string }>;
  failRun(
    code: string,
    message: string,
    options?: RunOptions,
  ): Promise<{ runId: string; workflowId: string }>;
  stop(): Promise<void>;
}

export async function startApiOnFakes(
  options: {
    /** `none`: no tokens configured (development). */
    tokens?: 'none';
    /** False: the API has no Temporal connection (triggers and decisions answer 503). */
    temporal?: false;
    env?: Record<string, string>;
  } = {},
): Promise<ApiOnFakes> {
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) };
  const config = loadConfig({
    USE_MOCK_DATA: 'true',
    ...(options.tokens === 'none'
      ? {}
      : { API_READ_TOKENS: `reader=${TOKENS.read}`, API_ADMIN_TOKENS: `ops-alice=${TOKENS.admin}` }),
    ...options.env,
  });
  const stores = createMemoryStores({ clock: clock.now });
  const sync = createFakeSyncControl(stores.runs);
  const logs: ApiOnFakes['logs'] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const { app, checkIndex } = buildApi({
    config,
    stores,
    ...(options.temporal === false ? {} : { temporal: { syncControl: sync } }),
    logger,
    clock: clock.now,
    pollMs: 60_000,
  });
  await checkIndex.start();
  const { server, url }: { server: Server; url: string } = await startServer(app, 0, '127.0.0.1');

  const request: ApiOnFakes['request'] = async (method, path, o = {}) => {
    const token = o.token === undefined ? TOKENS.admin : o.token;
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const response = await fetch(`${url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': o.contentType ?? 'application/json' }),
        ...o.headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  };

  const newRun = async (o: RunOptions) => {
    const runId = o.runId ?? `run-${randomUUID()}`;
    const workflowId = o.workflowId ?? `rls-sync-${randomUUID()}`;
    await stores.runs.start({ id: runId, workflowId, trigger: o.trigger ?? 'schedule' });
    return { runId, workflowId };
  };

  return {
    url,
    config,
    stores,
    sync,
    tokens: TOKENS,
    clock,
    logs,
    request,
    get: async (path, token) => {
      const answer = await request('GET', path, { token });
      return { status: answer.status, body: answer.json() };
    },
    post: async (path, body, token) => {
      const answer = await request('POST', path, { token, body });
      return { status: answer.status, body: answer.json() };
    },
    browser: () => formClient(url),
    async applyList(list = DEMO_LIST, o = {}) {
      const run = await newRun(o);
      const pages = o.pages ?? [DEMO_PAGE];
      await stores.claimChecks.savePages(
        run.runId,
        pages.map((page) => ({
          ...page,
          editedAt: null,
          format: 'storage' as const,
          body: '<table></table>',
        })),
      );
      const editors = new Map(
        pages.map((page) => [page.id, { version: page.version, editedBy: page.editedBy, editedAt: null }]),
      );
      const listVersion = await stores.withApplyLock(async (tx) => {
        const diff = diffInstruments(await tx.instruments.listAll(), [...list]);
        const counts = countDiff(diff);
        const previous = await tx.runs.currentListVersion();
        const changed = counts.added + counts.removed + counts.modified > 0;
        const version = previous === null ? 1 : changed ? previous + 1 : previous;
        const at = await tx.now();
        if (changed)
          await tx.instruments.applyDiff(diff, {
            runId: run.runId,
            listVersion: version,
            at,
            pages: editors,
          });
        await tx.runs.markSucceeded(run.runId, {
          ...counts,
          listVersion: version,
          instrumentCount: list.length,
          approvedBy: null,
          appliedAt: at,
        });
        await tx.notifyListChanged(version);
        return version;
      });
      await checkIndex.refresh();
      return { ...run, listVersion };
    },
    startRun: (o = {}) => newRun(o),
    async holdRun(reason, o = {}) {
      const run = await newRun(o);
      await stores.runs.markAwaitingApproval(run.runId, reason);
      return run;
    },
    async failRun(code, message, o = {}) {
      const run = await newRun(o);
      await stores.runs.markFailed(run.runId, { code, message });
      return run;
    },
    async stop() {
      await stopServer(server);
      await checkIndex.stop();
    },
  };
}
