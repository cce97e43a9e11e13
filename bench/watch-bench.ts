/**
 * The edit watch, measured on real parts (embedded Postgres, a Temporal dev server, the fake
 * Confluence over HTTP, the service as `npm start` runs it):
 *
 * - lag: two service processes' worth (two workers, two APIs, one database) and a list page plus
 *   CQL-labelled pages; edits of every kind (a row added, a row removed, a page added and
 *   removed through its label) saved at random moments; for each, the time from the save to both
 *   APIs answering checks from it. Reported as p50, p95 and max against the bound
 *   RESTRICTED_LIST_WATCH_SECONDS + 30 s.
 * - idle: what an hour without edits costs, for one named page and for one page plus a CQL:
 *   Confluence requests (and whether any downloaded a body), Temporal history bytes of the watch,
 *   Postgres rows written. Measured over `minutes` and scaled to the hour; the schedule is paused
 *   so that only the watch is measured (the hourly sync is the backstop, not the watch's cost).
 *
 *   node bench/watch-bench.ts [--edits 20] [--idle-minutes 10] [--watch-seconds 30]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { loadConfig } from '../src/config.ts';
import { createDb, migrateToLatest } from '../src/db/knex.ts';
import type { FakeConfluence } from '../src/dev/fake-confluence.ts';
import { startFakeConfluence } from '../src/dev/fake-confluence.ts';
import { createLogger } from '../src/logger.ts';
import { startService, type RunningService } from '../src/service.ts';
import { assertSucceeded, SCHEDULE_ID } from '../src/temporal/contract.ts';
import { watchWorkflowId } from '../src/temporal/watch.ts';
import type { syncRestrictedList } from '../workflows/index.ts';
import { benchServiceEnv, startBenchInfra, type BenchInfra } from './infra.ts';

const MAIN_PAGE = '163841';
const LABEL = 'restricted-list';
const CQL = `label = "${LABEL}" and space = COMP`;

function listPage(tickers: readonly string[]): string {
  const rows = tickers
    .map((t) => `<tr><td><p>${t}</p></td><td><p>${t} Inc.</p></td><td><p>Watch bench</p></td></tr>`)
    .join('');
  return `<table><tbody><tr><th><p>Ticker</p></th><th><p>Name</p></th><th><p>Reason</p></th></tr>${rows}</tbody></table>`;
}

const MAIN_LIST = Array.from({ length: 40 }, (_, i) => `W${String(i).padStart(3, '0')}`);

/** A database of its own on the infra's Postgres, migrated. */
async function freshDatabase(infra: BenchInfra, name: string): Promise<{ db: Knex; url: string }> {
  await infra.db.raw(`CREATE DATABASE ${name}`);
  const url = infra.postgres.url.replace(/\/[^/]*$/, `/${name}`);
  const db = createDb(url);
  await migrateToLatest(db);
  return { db, url };
}

async function deploy(
  infra: BenchInfra,
  confluence: FakeConfluence,
  options: { name: string; cql: boolean; apis: number; watchSeconds: number },
) {
  const database = await freshDatabase(infra, options.name);
  const env = {
    ...benchServiceEnv(infra, confluence.pageUrl(MAIN_PAGE), {
      databaseUrl: database.url,
      taskQueue: `watch-bench-${options.name}`,
    }),
    ...(options.cql ? { RESTRICTED_INSTRUMENTS_CQL: CQL } : {}),
    RESTRICTED_LIST_WATCH_SECONDS: String(options.watchSeconds),
    PORT: '0',
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: 'error' });
  const scheduleId = `${SCHEDULE_ID}-${options.name}`;
  const services: RunningService[] = [];
  for (let i = 0; i < Math.max(1, options.apis); i++) {
    services.push(
      await startService({
        config,
        database,
        roles: options.apis > 0 ? ['worker', 'api'] : ['worker'],
        logger,
        scheduleId,
        host: '127.0.0.1',
      }),
    );
  }
  const client = services[0]!.client;
  await client.schedule.getHandle(scheduleId).pause('the watch bench measures the watch alone');
  const first = await services[0]!.runStarter.start({ trigger: 'manual', requestedBy: 'watch bench' });
  assertSucceeded(
    await client.workflow.getHandle<typeof syncRestrictedList>(first.workflowId, first.runId).result(),
  );
  return {
    config,
    database,
    services,
    client,
    stop: async () => {
      await client.workflow
        .getHandle(watchWorkflowId(config.temporal.taskQueue))
        .cancel()
        .catch(() => undefined);
      for (const service of services) await service.stop();
      await database.db.destroy();
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] ?? 0;

export interface WatchLagResult {
  watchSeconds: number;
  lagsMs: { kind: string; ms: number }[];
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

const putMainPage = (confluence: FakeConfluence, tickers: readonly string[]) =>
  confluence.putPage({ id: MAIN_PAGE, title: 'Restricted Instruments List', storage: listPage(tickers) });

/** Edits of every kind at random moments; the time until both APIs answer from each. */
export async function benchWatchLag(options: {
  edits: number;
  watchSeconds: number;
}): Promise<WatchLagResult> {
  const infra = await startBenchInfra('watch-lag');
  const confluence = infra.confluence;
  let main = [...MAIN_LIST];
  const saveMainPage = () => putMainPage(confluence, main);
  saveMainPage();
  const deployment = await deploy(infra, confluence, {
    name: 'lag',
    cql: true,
    apis: 2,
    watchSeconds: options.watchSeconds,
  });
  const apis = deployment.services.map((service) => service.apiUrl!);
  const answered = async (ticker: string, restricted: boolean) => {
    for (;;) {
      const answers = await Promise.all(
        apis.map(
          async (api) =>
            (await (await fetch(`${api}/v1/check?ticker=${ticker}`)).json()) as { restricted?: boolean },
        ),
      );
      if (answers.every((answer) => answer.restricted === restricted)) return;
      await sleep(25);
    }
  };
  const lagsMs: WatchLagResult['lagsMs'] = [];
  let extraPage = 0;
  let labelled: { id: string; ticker: string } | null = null;
  try {
    for (let i = 0; i < options.edits; i++) {
      // A random moment relative to the watch's ticks.
      await sleep(Math.random() * options.watchSeconds * 1000);
      let kind: string;
      let ticker: string;
      let restricted: boolean;
      const saved = performance.now();
      switch (i % 4) {
        case 0: {
          kind = 'row added';
          ticker = `N${String(i).padStart(3, '0')}`;
          main = [...main, ticker];
          restricted = true;
          saveMainPage();
          break;
        }
        case 1: {
          kind = 'row removed';
          ticker = main[0]!;
          main = main.slice(1);
          restricted = false;
          saveMainPage();
          break;
        }
        case 2: {
          kind = 'page added (CQL)';
          extraPage += 1;
          ticker = `P${String(extraPage).padStart(3, '0')}`;
          labelled = { id: String(900000 + extraPage), ticker };
          restricted = true;
          confluence.putPage({
            id: labelled.id,
            title: `Extra list ${extraPage}`,
            storage: listPage([ticker]),
            labels: [LABEL],
          });
          break;
        }
        default: {
          kind = 'page removed (CQL label taken off)';
          ticker = labelled!.ticker;
          restricted = false;
          confluence.putPage({
            id: labelled!.id,
            title: `Extra list ${extraPage}`,
            storage: listPage([ticker]),
            labels: [],
          });
          break;
        }
      }
      await answered(ticker, restricted);
      const ms = performance.now() - saved;
      lagsMs.push({ kind, ms });
      console.error(
        `  edit ${i + 1}/${options.edits} (${kind}): enforced by both APIs after ${(ms / 1000).toFixed(1)} s`,
      );
    }
  } finally {
    await deployment.stop();
    await infra.stop();
  }
  const sorted = lagsMs.map((l) => l.ms).sort((a, b) => a - b);
  return {
    watchSeconds: options.watchSeconds,
    lagsMs,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    maxMs: sorted.at(-1) ?? 0,
  };
}

export interface WatchIdleResult {
  minutes: number;
  perHour: {
    variant: string;
    confluenceRequests: number;
    bodyDownloads: number;
    historyBytes: number;
    postgresRowsWritten: number;
  }[];
}

async function rowsWritten(db: Knex): Promise<number> {
  const row = await db.raw<{ rows: { n: string }[] }>(
    'SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) AS n FROM pg_stat_user_tables',
  );
  return Number(row.rows[0]?.n ?? 0);
}

/** An hour without edits (measured over `minutes`, scaled), for one named page and for one page plus a CQL. */
export async function benchWatchIdle(options: {
  minutes: number;
  watchSeconds: number;
}): Promise<WatchIdleResult> {
  const infra = await startBenchInfra('watch-idle');
  const variants = [
    { name: 'named', label: 'one named page', cql: false },
    { name: 'cql', label: 'one page plus a CQL', cql: true },
  ];
  const running: {
    label: string;
    confluence: FakeConfluence;
    deployment: Awaited<ReturnType<typeof deploy>>;
  }[] = [];
  try {
    for (const variant of variants) {
      const confluence = variant.cql ? await startFakeConfluence() : infra.confluence;
      putMainPage(confluence, MAIN_LIST);
      if (variant.cql)
        confluence.putPage({
          id: '900001',
          title: 'Extra list',
          storage: listPage(['X001']),
          labels: [LABEL],
        });
      running.push({
        label: variant.label,
        confluence,
        deployment: await deploy(infra, confluence, {
          name: `idle_${variant.name}`,
          cql: variant.cql,
          apis: 0,
          watchSeconds: options.watchSeconds,
        }),
      });
    }
    // Settle: the watch is running and has probed at least once.
    await sleep((options.watchSeconds + 5) * 1000);
    const history = async (d: (typeof running)[number]) =>
      Number(
        (
          await d.deployment.client.workflow
            .getHandle(watchWorkflowId(d.deployment.config.temporal.taskQueue))
            .describe()
        ).raw.workflowExecutionInfo?.historySizeBytes ?? 0,
      );
    const before = await Promise.all(
      running.map(async (d) => ({
        requests: d.confluence.requests.length,
        history: await history(d),
        rows: await rowsWritten(d.deployment.database.db),
      })),
    );
    await sleep(options.minutes * 60_000);
    const scale = 60 / options.minutes;
    const perHour = await Promise.all(
      running.map(async (d, i) => {
        const requests = d.confluence.requests.slice(before[i]!.requests);
        return {
          variant: d.label,
          confluenceRequests: Math.round(requests.length * scale),
          bodyDownloads: requests.filter((r) => r.path.includes('body-format=storage')).length,
          historyBytes: Math.round(((await history(d)) - before[i]!.history) * scale),
          postgresRowsWritten: Math.round(
            ((await rowsWritten(d.deployment.database.db)) - before[i]!.rows) * scale,
          ),
        };
      }),
    );
    return { minutes: options.minutes, perHour };
  } finally {
    for (const d of running) {
      await d.deployment.stop();
      if (d.confluence !== infra.confluence) await d.confluence.close();
    }
    await infra.stop();
  }
}

export function printWatchBench(lag: WatchLagResult | null, idle: WatchIdleResult | null): void {
  if (lag) {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `edit to enforcement (watch every ${lag.watchSeconds} s; ${lag.lagsMs.length} edits; both APIs answering)`,
    );
    console.log(
      `  p50 ${s(lag.p50Ms)}   p95 ${s(lag.p95Ms)}   max ${s(lag.maxMs)}   (bound ${lag.watchSeconds + 30} s)`,
    );
  }
  if (idle) {
    console.log(`an idle hour of the watch (measured over ${idle.minutes} min, scaled to 60)`);
    // The watch's history grows when its hour-long activity completes, not while it probes, so a
    // window shorter than that hour sees none of it; say so rather than print a reassuring 0.
    if (idle.minutes <= 60)
      console.log(
        '  (history grows once an hour, when the watch activity completes: measure over 61+ min to see it)',
      );
    for (const v of idle.perHour)
      console.log(
        `  ${v.variant.padEnd(20)} ${v.confluenceRequests} Confluence requests (${v.bodyDownloads} body downloads), ` +
          `${v.historyBytes} bytes of Temporal history, ${v.postgresRowsWritten} Postgres rows written`,
      );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      edits: { type: 'string', default: '20' },
      'idle-minutes': { type: 'string', default: '10' },
      'watch-seconds': { type: 'string', default: '30' },
    },
  });
  const watchSeconds = Number(values['watch-seconds']);
  const edits = Number(values.edits);
  const minutes = Number(values['idle-minutes']);
  const [lag, idle] = await Promise.all([
    edits > 0 ? benchWatchLag({ edits, watchSeconds }) : null,
    minutes > 0 ? benchWatchIdle({ minutes, watchSeconds }) : null,
  ]);
  printWatchBench(lag, idle);
  process.exit(0);
}
