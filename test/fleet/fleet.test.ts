import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { FLEET_TOKENS, checkLoad, request, startFleet, type Fleet } from '../helpers/fleet.ts';
import { activityStartsOf } from '../helpers/temporal-history.ts';
import { waitFor, within } from '../helpers/wait.ts';
import { assertSucceeded } from '../../src/temporal/contract.ts';

// The service as it runs in production: several worker processes and several API processes on
// one database and one Temporal namespace (test/helpers/fleet.ts). The processes are shared by
// the tests; the list is not: each test starts from the list it finds applied and computes what
// it expects from what it changes itself, so it passes alone and in any order.

const BODY_DOWNLOAD = `/api/v2/pages/${DEMO_PAGE_ID}?body-format`;

/** Instruments the page may list; checks ask about all of them (and one never listed). */
const POOL = ['AAPL', 'MSFT', 'NVDA', 'TSLA', 'IBM', 'ORCL', 'AMZN', 'GOOG', 'META', 'NFLX', 'INTC', 'AMD'];
const NEVER_LISTED = 'KO';

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
 * The next list: the first one or two entries leave, one or two from the pool join. Always a
 * change, never more than two removals and never the whole list, so the removal guard never
 * holds a run.
 */
function nextList(list: readonly string[]): string[] {
  const outside = POOL.filter((ticker) => !list.includes(ticker));
  const removeCount = list.length > 5 ? 2 : list.length > 3 ? 1 : 0;
  const addCount = list.length < 6 ? 2 : 1;
  return [...list.slice(removeCount), ...outside.slice(0, addCount)];
}

/** What a run from list `before` to list `after` adds and removes. */
const delta = (before: readonly string[], after: readonly string[]) => ({
  added: after.filter((t) => !before.includes(t)).length,
  removed: before.filter((t) => !after.includes(t)).length,
});

const sorted = (tickers: Iterable<string>) => [...tickers].sort();

interface AppliedList {
  /** 0 before the first sync. */
  version: number;
  tickers: string[];
}

describe('the service as a fleet: two workers and two APIs on one database', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startFleet({ workers: 2, apis: 2 });
  });
  afterAll(() => fleet?.stop());

  const putList = (tickers: readonly string[]) =>
    fleet.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: listPage(tickers) });

  /** The list the fleet holds as a test starts, whatever earlier tests (if any) applied. */
  async function appliedList(): Promise<AppliedList> {
    const { db } = fleet.database;
    const row = await db('sync_runs')
      .where({ status: 'succeeded' })
      .max<{ max: number | null }>('list_version as max')
      .first();
    const tickers = await db('restricted_instruments').where({ is_active: true }).pluck('ticker');
    return { version: row?.max ?? 0, tickers: sorted(tickers) };
  }

  /** Puts the list after the applied one on the page and applies it through a run: a test's own starting point. */
  async function applyNextList(): Promise<AppliedList> {
    const before = await appliedList();
    const next = nextList(before.tickers);
    putList(next);
    const result = assertSucceeded(await (await fleet.startRun()).result());
    expect(result.listVersion).toBe(before.version + 1);
    return { version: result.listVersion, tickers: next };
  }

  it('before the first sync no API is ready, and checks answer 503, never "not restricted"', async () => {
    // A database of its own, where nothing has been synced: the fleet's may hold other tests' lists.
    const fresh = await createTestDatabase();
    const apis = await Promise.all(
      ['api-fresh-1', 'api-fresh-2'].map((name) => fleet.startApi(name, { DATABASE_URL: fresh.url })),
    );
    try {
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
    } finally {
      await Promise.all(apis.map((api) => fleet.stopProcess(api.process)));
      await fresh.drop();
    }
  }, 60_000);

  it('runs one sync at a time: triggers through both APIs at once return the same run', async () => {
    const before = await appliedList();
    const runsBefore = await fleet.database.db('sync_runs').pluck('id');
    const next = nextList(before.tickers);
    putList(next);
    // The run cannot finish while its page download is held, so it is still in progress when
    // each trigger is handled, however slowly the two arrive.
    const gate = fleet.confluence.hold({ pathIncludes: BODY_DOWNLOAD });
    let triggers: { status: number; body: any }[];
    try {
      triggers = await Promise.all(
        fleet.apis.map((api) => request(`${api.url}/v1/sync`, { method: 'POST', token: FLEET_TOKENS.admin })),
      );
    } finally {
      gate.release();
    }
    for (const trigger of triggers) expect(trigger.status).toBe(202);
    const [first, second] = triggers.map(
      (trigger) => trigger.body as { workflow_id: string; run_id: string },
    );
    expect(second).toMatchObject({ workflow_id: first!.workflow_id, run_id: first!.run_id });
    // Triggering needs an admin token, on every API.
    for (const api of fleet.apis)
      expect((await request(`${api.url}/v1/sync`, { method: 'POST' })).status).toBe(403);

    const result = await fleet.client.workflow.getHandle(first!.workflow_id, first!.run_id).result();
    expect(result).toMatchObject({
      status: 'succeeded',
      runId: first!.run_id,
      listVersion: before.version + 1,
      ...delta(before.tickers, next),
    });
    const runs = await fleet.database
      .db('sync_runs')
      .whereNotIn('id', runsBefore)
      .select('id', 'status', 'requested_by');
    expect(runs).toEqual([{ id: first!.run_id, status: 'succeeded', requested_by: 'ops-alice' }]);
  }, 60_000);

  it("a sync applied through one worker is visible on both APIs' checks right after the run finishes", async () => {
    let { version, tickers: current } = await appliedList();
    const delays: number[][] = fleet.apis.map(() => []);
    for (let round = 0; round < 3; round++) {
      const next = nextList(current);
      const changed = [
        ...next.filter((t) => !current.includes(t)),
        ...current.filter((t) => !next.includes(t)),
      ];
      putList(next);
      const result = assertSucceeded(await (await fleet.startRun()).result());
      const finishedAt = performance.now();
      expect(result.listVersion).toBe(version + 1);
      [version, current] = [result.listVersion, next];
      await Promise.all(
        fleet.apis.map(async (api, i) => {
          const answers = await waitFor(
            `${api.name} to answer from list version ${result.listVersion}`,
            async () => {
              const answers = await Promise.all(
                changed.map((ticker) => request(`${api.url}/v1/check?ticker=${ticker}`)),
              );
              return answers.every((a) => a.body.list_version === result.listVersion) ? answers : undefined;
            },
            5_000,
            10,
          );
          delays[i]!.push(performance.now() - finishedAt);
          // The new list, whole: the added tickers restricted, the removed ones no longer.
          expect(answers.map((a) => a.body.restricted)).toEqual(changed.map((t) => next.includes(t)));
        }),
      );
    }
    console.log(
      `[fleet] propagation after the workflow result arrived (3 syncs): ${fleet.apis.map((api, i) => `${api.name} ${delays[i]!.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`).join('; ')}`,
    );
    // Generous: the index reloads on NOTIFY within milliseconds; this bound only catches a lost
    // notification (the safety-net poll runs every 5 s).
    for (const ms of delays.flat()) expect(ms).toBeLessThan(5_000);
  }, 60_000);

  it('an API process started later loads the current list before it reports ready', async () => {
    const current = await applyNextList();
    const late = await fleet.startApi('api-late');
    // Its very first answers already come from the current list.
    const ready = await request(`${late.url}/readyz`, { token: null });
    expect(ready).toMatchObject({
      status: 200,
      body: { ready: true, list_version: current.version, instrument_count: current.tickers.length },
    });
    const [listed, notListed] = [current.tickers[0]!, POOL.find((t) => !current.tickers.includes(t))!];
    expect((await request(`${late.url}/v1/check?ticker=${listed}`)).body).toMatchObject({
      restricted: true,
      list_version: current.version,
    });
    expect((await request(`${late.url}/v1/check?ticker=${notListed}`)).body).toMatchObject({
      restricted: false,
      list_version: current.version,
    });
    expect((await request(`${late.url}/v1/check?ticker=${listed}`, { token: 'not-a-token' })).status).toBe(
      401,
    );
    // It stops cleanly on SIGTERM.
    expect(await fleet.stopProcess(late.process)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('under load while syncs add and remove instruments, every check answers from one whole list', async () => {
    // Every answer must come from a list this test applied: the first one, before the load, and
    // those applied under it. Every API answers from the first before the load starts.
    const start = await applyNextList();
    await Promise.all(
      fleet.apis.map((api) =>
        waitFor(`${api.name} to answer from list version ${start.version}`, async () => {
          const ready = await request(`${api.url}/readyz`, { token: null });
          return ready.body.list_version === start.version ? true : undefined;
        }),
      ),
    );
    const lists = new Map<number, ReadonlySet<string>>([[start.version, new Set(start.tickers)]]);
    let { version, tickers: current } = start;

    const loadRun = checkLoad(fleet.apis, { tickers: [...POOL, NEVER_LISTED], ...LOAD });
    let loading = true;
    void loadRun.finally(() => (loading = false)).catch(() => undefined);
    let syncs = 0;
    try {
      while (loading) {
        const next = nextList(current);
        putList(next);
        // Through the APIs in turn, the way an operator triggers a run.
        const api = fleet.apis[syncs % fleet.apis.length]!;
        const finished = await request(`${api.url}/v1/sync?wait=true`, {
          method: 'POST',
          token: FLEET_TOKENS.admin,
        });
        expect(finished).toMatchObject({ status: 200, body: { status: 'succeeded' } });
        expect(finished.body.list_version).toBe(version + 1);
        [version, current] = [finished.body.list_version as number, next];
        lists.set(version, new Set(next));
        const list = await request(`${fleet.apis[(syncs + 1) % fleet.apis.length]!.url}/v1/restricted`);
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
        `${fleet.apis.map((api, i) => `${api.name} ${served.filter((a) => a.api === i).length}`).join(', ')}), ` +
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
    const before = await appliedList();
    const next = nextList(before.tickers);
    putList(next);
    const workers = [...fleet.workers];
    expect(workers).toHaveLength(2);
    // The download is held until the worker running the fetch step is dead; the released gate
    // then lets the retried attempt's download through.
    const gate = fleet.confluence.hold({ pathIncludes: BODY_DOWNLOAD });
    let victim: (typeof workers)[number] | undefined;
    let killedAt: number;
    // A short attempt timeout, so the killed worker's attempt is retried within seconds.
    const handle = await fleet.startRun({ activityStartToCloseMs: 3_000 });
    try {
      await within('the fetch step to ask for the page', gate.arrived, 10_000);
      const holder = await waitFor(
        'the fetch step to name its worker',
        async () => {
          const { raw } = await handle.describe();
          const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'fetchPages');
          return pending?.lastWorkerIdentity ? pending.lastWorkerIdentity : undefined;
        },
        10_000,
      );
      victim = workers.find((worker) => worker.identity === holder);
      expect(
        victim,
        `the fetch step runs on ${holder}, not on one of ${workers.map((w) => w.identity).join(', ')}`,
      ).toBeDefined();
      killedAt = performance.now();
      expect(await fleet.kill(victim!)).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      gate.release();
    }
    const survivor = workers.find((worker) => worker !== victim)!;

    try {
      const result = assertSucceeded(await handle.result());
      console.log(
        `[fleet] the run finished ${((performance.now() - killedAt) / 1000).toFixed(1)} s after its worker was killed`,
      );
      expect(result).toMatchObject({
        status: 'succeeded',
        listVersion: before.version + 1,
        ...delta(before.tickers, next),
        instrumentCount: next.length,
      });
      // The fetch step's last attempt ran on the surviving worker.
      const fetchStarts = await activityStartsOf(handle, 'fetchPages');
      expect(fetchStarts.map((started) => started.identity)).toEqual([survivor.identity]);
      expect(fetchStarts[0]!.attempt).toBeGreaterThan(1);
      const active = await fleet.database
        .db('restricted_instruments')
        .where({ is_active: true })
        .pluck('ticker');
      expect(sorted(active)).toEqual(sorted(next));
      expect((await fleet.database.db('sync_runs').where({ id: result.runId }).first()).status).toBe(
        'succeeded',
      );
    } finally {
      // Two workers again, for whichever test comes next.
      await fleet.startWorker(`${victim!.name}-replacement`);
    }
  }, 60_000);
});
