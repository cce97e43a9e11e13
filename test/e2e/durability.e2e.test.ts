import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../../src/db/knex.ts';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

const withRow = (ticker: string) =>
  DEMO_PAGE_STORAGE.replace(
    '</tbody>',
    `<tr><td><p>${ticker}</p></td><td><p></p></td><td><p>${ticker} plc</p></td><td><p>New</p></td><td><p>Full</p></td></tr></tbody>`,
  );

async function changesOf(p: Pipeline, runId: string): Promise<string[]> {
  const rows = await p.database.db('instrument_changes').where({ run_id: runId }).orderBy('id');
  return rows.map((row) => `${row.change} ${row.ticker}`);
}

describe('an apply retried after its commit', () => {
  let p: Pipeline;
  let failAfterCommit = false;
  let applyAttempts = 0;
  beforeAll(async () => {
    p = await startPipeline(
      {},
      {
        wrapActivities: (activities) => ({
          ...activities,
          // The commit succeeds, then the connection "drops" before Temporal hears of it.
          applyDiff: async (input) => {
            applyAttempts += 1;
            const result = await activities.applyDiff(input);
            if (failAfterCommit) {
              failAfterCommit = false;
              throw new Error('Connection terminated unexpectedly (after COMMIT)');
            }
            return result;
          },
        }),
      },
    );
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
  });
  afterAll(() => p.stop());

  it('applies nothing twice', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: withRow('IBM') });
    failAfterCommit = true;
    applyAttempts = 0;
    const result = await p.runSync();
    expect(applyAttempts).toBe(2);
    expect(result).toMatchObject({ status: 'succeeded', added: 1, listVersion: 2 });
    expect(await changesOf(p, result.runId)).toEqual(['added IBM']);
    expect(await p.database.db('restricted_instruments').where({ ticker: 'IBM' })).toHaveLength(1);
    expect((await p.get('/v1/check?ticker=IBM')).body).toMatchObject({ restricted: true, list_version: 2 });
  });
});

describe('Postgres unreachable during the upsert', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
  });
  afterAll(() => p.stop());

  it('rolls the transaction back, retries, and applies once the database is back', async () => {
    const name = new URL(p.database.url).pathname.slice(1);
    const admin = createDb(inject('databaseUrl'), { min: 0, max: 2 });
    const locker = createDb(p.database.url, { min: 1, max: 1 });
    try {
      // Hold the change log so the apply blocks inside its transaction, after its first writes.
      const lockTaken = Promise.withResolvers<number>();
      const release = Promise.withResolvers<void>();
      const holding = locker.transaction(async (trx) => {
        await trx.raw('LOCK TABLE instrument_changes IN ACCESS EXCLUSIVE MODE');
        lockTaken.resolve((await trx.raw('SELECT pg_backend_pid() AS pid')).rows[0].pid);
        await release.promise;
        // Nothing half-applied: the aborted transaction left the cache as it was.
        const { rows } = await trx.raw(
          `SELECT count(*)::int AS n FROM restricted_instruments WHERE ticker = 'ORCL'`,
        );
        expect(rows[0].n).toBe(0);
      });
      const lockerPid = await lockTaken.promise;

      p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: withRow('ORCL') });
      const handle = await p.startSync();
      await waitFor('the apply to block on the lock', async () => {
        const { rows } = await admin.raw(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ? AND wait_event_type = 'Lock'`,
          [name],
        );
        return rows[0].n > 0 ? true : undefined;
      });

      // The database goes away: new connections refused, the worker's connections cut.
      await admin.raw(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.raw(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> ?`,
        [name, lockerPid],
      );
      const failure = await waitFor('a failed apply attempt', async () => {
        const pending = (await handle.describe()).raw.pendingActivities?.find(
          (a) => a.activityType?.name === 'applyDiff',
        );
        return pending?.lastFailure?.message ? pending : undefined;
      });
      // Retried as a transient error, with the database's own words.
      expect(failure.lastFailure?.message).toMatch(/terminat|connect/i);

      await admin.raw(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      release.resolve();
      await holding;
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'succeeded', added: 1 });
      expect(await changesOf(p, result.runId)).toEqual(['added ORCL']);
      expect((await p.get('/v1/sync/status')).body.status).toBe('ok');
    } finally {
      await admin.raw(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await locker.destroy();
      await admin.destroy();
    }
  });
});

describe('the worker killed in the middle of a run', () => {
  let p: Pipeline;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    p = await startPipeline({}, { worker: false });
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await p.stop();
  });

  it('lets another worker finish the run with the same result', async () => {
    child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../helpers/worker-process.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          ...p.env,
          WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
          LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child!.once('exit', (code) => reject(new Error(`the worker process exited with ${code}`)));
    });

    // The page download hangs, so the run is inside its fetch step when the worker dies.
    p.confluence.fail({ delayMs: 30_000, pathIncludes: `/api/v2/pages/${DEMO_PAGE_ID}?body-format` });
    const handle = await p.startSync({ activityStartToCloseMs: 3_000 });
    await waitFor('the worker to start downloading', async () =>
      p.confluence.requests.some((r) => r.path.includes('body-format=storage')) ? true : undefined,
    );
    child.kill('SIGKILL');

    await p.startWorker();
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'succeeded', added: 4, listVersion: 1 });
    expect(await p.activeTickers()).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
    const run = await p.database.db('sync_runs').where({ id: result.runId }).first();
    expect(run.status).toBe('succeeded');
    const history = await handle.fetchHistory();
    const timedOut = history.events?.filter((event) => event.activityTaskTimedOutEventAttributes) ?? [];
    const fetchAttempts = history.events?.find(
      (e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1,
    );
    expect(timedOut.length + (fetchAttempts ? 1 : 0)).toBeGreaterThan(0);
  });
});

describe('syncs triggered at once', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
  });
  afterAll(() => p.stop());

  it('start one run; every trigger during it returns that run', async () => {
    // The run cannot finish while its page download is held, so it is in progress when every
    // trigger is handled, however slowly they arrive.
    const gate = p.confluence.hold({ pathIncludes: `/api/v2/pages/${DEMO_PAGE_ID}?body-format` });
    let started: { workflow_id: string; run_id: string };
    try {
      const [first, second] = await Promise.all([p.post('/v1/sync'), p.post('/v1/sync')]);
      expect(first!.status).toBe(202);
      expect(second!.status).toBe(202);
      expect(second!.body.workflow_id).toBe(first!.body.workflow_id);
      expect(second!.body.run_id).toBe(first!.body.run_id);
      expect([first!.body.already_running, second!.body.already_running].sort()).toEqual([false, true]);

      const third = await p.post('/v1/sync');
      expect(third.body).toMatchObject({
        workflow_id: first!.body.workflow_id,
        run_id: first!.body.run_id,
        already_running: true,
      });
      started = first!.body;
    } finally {
      gate.release();
    }

    await p.client.workflow.getHandle(started.workflow_id, started.run_id).result();
    const [run] = (await p.get('/v1/sync/runs?limit=5')).body.runs;
    expect(run).toMatchObject({
      run_id: started.run_id,
      status: 'succeeded',
      added: 4,
      requested_by: 'ops-alice',
      trigger: 'manual',
    });
    expect(await p.database.db('sync_runs').count<{ count: number }[]>('* as count')).toEqual([{ count: 1 }]);
  });

  it('needs an admin token to trigger', async () => {
    expect((await p.post('/v1/sync', undefined, p.tokens.read)).status).toBe(403);
    expect((await p.post('/v1/sync', undefined, null)).status).toBe(403);
  });
});
