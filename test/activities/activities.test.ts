import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.ts';
import {
  ConfluenceAuthError,
  ConfluenceConfigError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
  ConfluenceUnavailableError,
} from '../../src/confluence/errors.ts';
import { MockDataError } from '../../src/sync/sources.ts';
import type { RunState, RunStateOf } from '../../src/temporal/run-start.ts';
import { createFakeListSource } from '../fakes/list-source.ts';
import { createMemoryStores } from '../fakes/memory-stores.ts';

const PAGE_ID = '163841';

/** A list page as Compliance writes it: one row per ticker. */
function listPage(tickers: readonly string[], reason = 'Inside information'): string {
  const rows = tickers.map((t) => `<tr><td>${t}</td><td>${t} Inc.</td><td>${reason}</td></tr>`).join('');
  return `<table><tbody><tr><th>Ticker</th><th>Name</th><th>Reason</th></tr>${rows}</tbody></table>`;
}

/** An activity context at `attempt`; expected failures are not printed. */
function activityEnv(attempt = 1) {
  const env = new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') });
  return {
    run: <A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
      env.run(activity, ...args) as Promise<R>,
  };
}

let runCounter = 0;
function setup(options: { maxRemovalPercent?: number } = {}) {
  const stores = createMemoryStores();
  const source = createFakeListSource();
  const states = new Map<string, RunState>();
  // Temporal's view of each run, as a test sets it; unknown runs are running.
  const stateOf: RunStateOf = async (_workflowId, runId) => states.get(runId) ?? 'RUNNING';
  const activities = createActivities({
    stores,
    source,
    maxRemovalPercent: options.maxRemovalPercent ?? 25,
    stateOf,
  });
  const newRun = () => {
    runCounter += 1;
    return { runId: `run-${runCounter}`, workflowId: `restricted-list-sync-${runCounter}` };
  };
  /**
   * A new run's steps up to its diff, in one activity context (attempt 1), for a test to go on
   * from. `claim: true` starts with the one-at-a-time check (startRun).
   */
  const diffRun = async ({ claim = false } = {}) => {
    const run = newRun();
    const env = activityEnv();
    if (claim) {
      const started = await env.run(activities.startRun, { ...run, trigger: 'schedule' as const });
      if (started.skipped !== null) throw new Error(`run ${run.runId} gave way to ${started.skipped.runId}`);
    }
    await env.run(activities.fetchPages, { ...run, trigger: 'schedule' as const });
    await env.run(activities.parsePages, run);
    const diff = await env.run(activities.diffList, run);
    return { run, env, diff };
  };
  /**
   * Every step of one run, in one activity context (attempt 1). `claim: false` skips the
   * one-at-a-time check, for a change made beside a run that is in progress.
   */
  const sync = async (approvedBy: string | null = null, { claim = true } = {}) => {
    const { run, env, diff } = await diffRun({ claim });
    const applied = await env.run(activities.applyDiff, { ...run, approvedBy });
    return { run, diff, applied };
  };
  const active = async () =>
    (await stores.instruments.listAll())
      .filter((row) => row.is_active)
      .map((row) => row.ticker)
      .sort();
  return { stores, source, activities, newRun, diffRun, sync, active, states };
}

/** What the activity threw, for assertions on the failure's type and retryability. */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the activity to fail');
}

describe('startRun', () => {
  it('records the run and says what list it starts from; a retry (attempt 2) changes nothing', async () => {
    const { stores, source, activities, newRun, sync } = setup();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT']) });
    const first = await sync();
    const run = newRun();
    const input = { ...run, trigger: 'manual' as const, requestedBy: 'ops-alice' };
    const started = await activityEnv().run(activities.startRun, input);
    expect(started).toEqual({
      skipped: null,
      baseline: {
        listVersion: 1,
        activeCount: 2,
        pages: [{ id: PAGE_ID, title: 'Restricted Instruments List', version: 1, url: expect.any(String) }],
      },
    });
    expect(await activityEnv(2).run(activities.startRun, input)).toEqual(started);
    expect((await stores.runs.unfinished()).map((r) => [r.id, r.trigger, r.requested_by])).toEqual([
      [run.runId, 'manual', 'ops-alice'],
    ]);
    expect((await stores.runs.get(first.run.runId))?.status).toBe('succeeded');
  });

  it('gives way to a sync in progress, recording nothing for itself', async () => {
    const { stores, activities, newRun } = setup();
    const busy = newRun();
    await activityEnv().run(activities.startRun, {
      ...busy,
      trigger: 'manual' as const,
      requestedBy: 'ops-bob',
    });
    await stores.runs.markAwaitingApproval(busy.runId, 'held');
    const late = newRun();
    const started = await activityEnv().run(activities.startRun, { ...late, trigger: 'schedule' as const });
    expect(started.skipped).toEqual({
      workflowId: busy.workflowId,
      runId: busy.runId,
      startedBy: 'ops-bob (manual)',
    });
    expect(await stores.runs.get(late.runId)).toBeUndefined();
  });

  it('does not wait on a run Temporal has ended without it saying so; that run is recorded failed', async () => {
    const { stores, activities, newRun, states } = setup();
    const terminated = newRun();
    await activityEnv().run(activities.startRun, { ...terminated, trigger: 'schedule' as const });
    states.set(terminated.runId, 'TERMINATED');
    const next = newRun();
    expect(
      (await activityEnv().run(activities.startRun, { ...next, trigger: 'schedule' as const })).skipped,
    ).toBeNull();
    expect(await stores.runs.get(terminated.runId)).toMatchObject({
      status: 'failed',
      error_code: 'WorkflowTERMINATED',
      error: 'the workflow is terminated in Temporal; nothing was applied by it',
    });
    // A run that completed but has not yet recorded it is not in progress, and is left to say so itself.
    states.set(next.runId, 'COMPLETED');
    const third = newRun();
    expect(
      (await activityEnv().run(activities.startRun, { ...third, trigger: 'schedule' as const })).skipped,
    ).toBeNull();
    expect((await stores.runs.get(next.runId))?.status).toBe('running');
  });
});

describe('fetchPages', () => {
  it('records the run and keeps the downloaded page, and on a retry (attempt 2) does it again harmlessly', async () => {
    const { stores, source, activities, newRun } = setup();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL']) });
    const run = newRun();
    const first = await activityEnv().run(activities.fetchPages, {
      ...run,
      trigger: 'manual' as const,
      requestedBy: 'ops-alice',
    });
    expect(first.pages).toEqual([expect.objectContaining({ id: PAGE_ID, version: 1 })]);
    expect(first.summary).toBe(`Fetched page ${PAGE_ID} v1`);
    const retried = await activityEnv(2).run(activities.fetchPages, {
      ...run,
      trigger: 'manual' as const,
      requestedBy: 'ops-alice',
    });
    expect(retried.pages).toEqual(first.pages);
    expect(await stores.runs.recent(10)).toEqual([
      expect.objectContaining({
        id: run.runId,
        trigger: 'manual' as const,
        requested_by: 'ops-alice',
        status: 'running',
      }),
    ]);
    expect(await stores.claimChecks.loadPages(run.runId)).toEqual([
      expect.objectContaining({ id: PAGE_ID, version: 1, body: listPage(['AAPL']) }),
    ]);
  });

  it('reuses the body of a page the last successful sync stored at the same version', async () => {
    const { source, activities, newRun, sync, stores } = setup();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL']) });
    source.put({ id: '163842', title: 'More', storage: listPage(['MSFT']) });
    await sync();
    expect(source.downloads).toBe(2);
    source.put({ id: '163842', title: 'More', storage: listPage(['MSFT', 'TSLA']) });
    const run = newRun();
    const fetched = await activityEnv().run(activities.fetchPages, {
      ...run,
      trigger: 'schedule' as const,
    });
    expect(source.downloads).toBe(3);
    expect(fetched.summary).toBe(`Fetched page ${PAGE_ID} v1 (unchanged), page 163842 v2`);
    expect((await stores.claimChecks.loadPages(run.runId)).map((p) => [p.id, p.version, p.body])).toEqual([
      [PAGE_ID, 1, listPage(['AAPL'])],
      ['163842', 2, listPage(['MSFT', 'TSLA'])],
    ]);
  });

  it.each([
    [
      'credentials refused',
      new ConfluenceAuthError('get page 1', 'Confluence rejected the credentials'),
      'ConfluenceAuthError',
    ],
    [
      'page gone',
      new ConfluenceNotFoundError('get page 1', 'Confluence answered 404'),
      'ConfluenceNotFoundError',
    ],
    [
      'no cloud id to be had',
      new ConfluenceConfigError(
        'CONFLUENCE_CLOUD_ID',
        'could not read the cloud id; set CONFLUENCE_CLOUD_ID',
      ),
      'ConfluenceConfigError',
    ],
    ['bad seed file', new MockDataError('seed.json is not valid JSON'), 'InvalidMockData'],
  ])('%s: a final failure of type %s, the cause kept', async (_what, error, type) => {
    const { source, activities, newRun } = setup();
    source.failNext(error);
    const failure = await failureOf(
      activityEnv().run(activities.fetchPages, { ...newRun(), trigger: 'schedule' as const }),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: `${type}`,
      nonRetryable: true,
      message: error.message,
      cause: error,
    });
  });

  it('a rate limit is retried after the server says, not at once and not never', async () => {
    const { source, activities, newRun } = setup();
    const limited = new ConfluenceRateLimitError(
      'get page 1',
      'Confluence is rate limiting requests (429)',
      7_000,
    );
    source.failNext(limited);
    const failure = await failureOf(
      activityEnv(3).run(activities.fetchPages, {
        ...newRun(),
        trigger: 'schedule' as const,
      }),
    );
    expect(failure).toMatchObject({
      type: 'ConfluenceRateLimitError',
      nonRetryable: false,
      nextRetryDelay: 7_000,
      cause: limited,
    });
  });

  it('Confluence unavailable stays a plain error, retried with backoff', async () => {
    const { source, activities, newRun } = setup();
    const down = new ConfluenceUnavailableError('get page 1', 'Confluence is unavailable (503)');
    source.failNext(down);
    const failure = await failureOf(
      activityEnv().run(activities.fetchPages, { ...newRun(), trigger: 'schedule' as const }),
    );
    expect(failure).toBe(down);
  });
});

describe('parsePages', () => {
  it('keeps the parsed list and the warnings with the run, and says how many', async () => {
    const { stores, source, activities, newRun } = setup();
    source.put({
      id: PAGE_ID,
      storage: listPage(['AAPL', 'MSFT']).replace(
        '</tbody>',
        '<tr><td></td><td>Nobody</td><td>x</td></tr></tbody>',
      ),
    });
    const run = newRun();
    const env = activityEnv();
    await env.run(activities.fetchPages, { ...run, trigger: 'schedule' as const });
    const parsed = await env.run(activities.parsePages, run);
    expect(parsed).toEqual({
      instrumentCount: 2,
      warningCount: 1,
      summary: 'Parsed 2 instruments, 1 warnings',
    });
    expect((await stores.runs.get(run.runId))?.warnings).toEqual([
      expect.objectContaining({ page: PAGE_ID, table: 1, row: 4, code: 'row_without_identifier' }),
    ]);
    const artifact = await stores.claimChecks.loadArtifact<{ instruments: { ticker: string }[] }>(
      run.runId,
      'parsed',
    );
    expect(artifact.instruments.map((i) => i.ticker)).toEqual(['AAPL', 'MSFT']);
  });

  it('a page with no list table is a final ParseError naming the page, with its warnings kept', async () => {
    const { stores, source, activities, newRun } = setup();
    source.put({
      id: PAGE_ID,
      storage: '<p>The list moved.</p><table><tr><th>Contact</th></tr><tr><td>x</td></tr></table>',
    });
    const run = newRun();
    const env = activityEnv();
    await env.run(activities.fetchPages, { ...run, trigger: 'schedule' as const });
    const failure = await failureOf(env.run(activities.parsePages, run));
    expect(failure).toMatchObject({ type: 'ParseError', nonRetryable: true });
    expect((failure as Error).message).toMatch(
      new RegExp(`^page ${PAGE_ID} "Restricted Instruments List" v1: No restricted-list table on page`),
    );
    await expect(stores.claimChecks.loadArtifact(run.runId, 'parsed')).rejects.toThrow('has no parsed data');
  });
});

describe('diffList', () => {
  it('counts the changes and writes nothing to the cache', async () => {
    const { source, diffRun, sync, active } = setup();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT', 'TSLA', 'NVDA', 'IBM']) });
    await sync();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT', 'TSLA', 'NVDA', 'ORCL']) });
    const { diff } = await diffRun();
    expect(diff).toMatchObject({
      added: 1,
      removed: 1,
      modified: 0,
      unchanged: 4,
      activeBefore: 5,
      held: null,
    });
    expect(diff.summary).toBe('Diff: +1 −1 ~0 =4');
    expect(await active()).toEqual(['AAPL', 'IBM', 'MSFT', 'NVDA', 'TSLA']);
  });

  it('holds a diff that would remove more than the allowed share of the list', async () => {
    const { source, diffRun, sync } = setup({ maxRemovalPercent: 25 });
    source.put({
      id: PAGE_ID,
      storage: listPage(['AAPL', 'MSFT', 'TSLA', 'NVDA', 'IBM', 'ORCL', 'AMZN', 'META']),
    });
    await sync();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT', 'TSLA', 'NVDA', 'IBM']) });
    const { diff } = await diffRun();
    expect(diff.held).toBe(
      'the sync would remove 3 of 8 active instruments (37.5 %, more than the 25 % allowed by RESTRICTED_LIST_MAX_REMOVAL_PERCENT)',
    );
    expect(diff.summary).toContain('held for approval');
  });
});

describe('applyDiff', () => {
  it('applies the list, counts up the list version only when it changed, and tells the API processes', async () => {
    const { stores, source, sync, active } = setup();
    const heard: number[] = [];
    const subscription = await stores.listChanges.subscribe(
      () => heard.push(heard.length),
      () => undefined,
    );
    await expect.poll(() => heard.length, { timeout: 10_000 }).toBe(1);
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT']) });
    const first = await sync();
    expect(first.applied).toMatchObject({
      added: 2,
      removed: 0,
      listVersion: 1,
      changedInstruments: ['AAPL', 'MSFT'],
    });
    expect(await active()).toEqual(['AAPL', 'MSFT']);
    await expect.poll(() => heard.length, { timeout: 10_000 }).toBe(2);
    const again = await sync();
    expect(again.applied).toMatchObject({ added: 0, removed: 0, modified: 0, unchanged: 2, listVersion: 1 });
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT'], 'Research blackout') });
    expect((await sync()).applied).toMatchObject({ modified: 2, listVersion: 2 });
    const changes = await stores.history.changes({ since: null, limit: 10 });
    expect(changes[0]).toMatchObject({
      change: 'modified',
      page_id: PAGE_ID,
      page_version: 2,
      edited_by: 'Compliance Officer',
    });
    await subscription.close();
  });

  it('a retry after its commit (attempt 2) finds the run applied and applies nothing twice', async () => {
    const { stores, source, activities, diffRun } = setup();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL']) });
    const { run, env } = await diffRun();
    await env.run(activities.applyDiff, { ...run, approvedBy: null });
    const retried = await activityEnv(2).run(activities.applyDiff, {
      ...run,
      approvedBy: null,
    });
    expect(retried).toMatchObject({ added: 1, listVersion: 1, summary: 'Already applied: +1 −0 ~0 =0' });
    expect(await stores.history.changes({ since: null, limit: 10 })).toHaveLength(1);
  });

  it('a database failure inside the apply undoes all of it, and the retry applies it once', async () => {
    const { stores, source, activities, diffRun, active } = setup();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT']) });
    const { run, env } = await diffRun();
    const lost = new Error('Connection terminated unexpectedly');
    stores.failNext('runs.markSucceeded', lost);
    expect(await failureOf(env.run(activities.applyDiff, { ...run, approvedBy: null }))).toBe(lost);
    expect(await active()).toEqual([]);
    expect(await stores.history.changes({ since: null, limit: 10 })).toEqual([]);
    expect((await stores.runs.get(run.runId))?.status).toBe('running');
    const retried = await activityEnv(2).run(activities.applyDiff, {
      ...run,
      approvedBy: null,
    });
    expect(retried).toMatchObject({ added: 2, listVersion: 1 });
    expect(await active()).toEqual(['AAPL', 'MSFT']);
    expect(await stores.history.changes({ since: null, limit: 10 })).toHaveLength(2);
  });

  it('refuses to apply, without an approval, removals the guard would hold because the list moved since the diff', async () => {
    const { stores, source, activities, diffRun, sync, active } = setup();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT', 'TSLA', 'NVDA']) });
    await sync();
    // This run's diff removes one of four: not held.
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT', 'TSLA']) });
    const { run, env, diff } = await diffRun();
    expect(diff.held).toBeNull();
    // Meanwhile four more were applied beside it; this run's list would now remove five of eight.
    source.put({
      id: PAGE_ID,
      storage: listPage(['AAPL', 'MSFT', 'TSLA', 'NVDA', 'IBM', 'ORCL', 'AMZN', 'META']),
    });
    await sync(null, { claim: false });
    const failure = await failureOf(env.run(activities.applyDiff, { ...run, approvedBy: null }));
    expect(failure).toMatchObject({ type: 'ListChangedWhileHeld', nonRetryable: true });
    expect((failure as Error).message).toMatch(
      /^the list changed since the diff and the sync would remove 5 of 8/,
    );
    expect(await active()).toEqual(['AAPL', 'AMZN', 'IBM', 'META', 'MSFT', 'NVDA', 'ORCL', 'TSLA']);
    expect((await stores.runs.get(run.runId))?.status).toBe('running');
  });

  it('applies an approved removal and records who approved it', async () => {
    const { stores, source, sync, active } = setup();
    source.put({ id: PAGE_ID, storage: listPage(['AAPL', 'MSFT', 'TSLA', 'NVDA']) });
    await sync();
    source.put({ id: PAGE_ID, storage: listPage([]) });
    const { run, diff, applied } = await sync('ops-alice');
    expect(diff.held).toBe('the sync would remove every instrument on the list (4)');
    expect(applied).toMatchObject({ removed: 4, listVersion: 2 });
    expect(await active()).toEqual([]);
    expect(await stores.runs.get(run.runId)).toMatchObject({
      status: 'succeeded',
      decision: 'approved',
      decided_by: 'ops-alice',
    });
  });
});

describe('holdForApproval and markRunFailed', () => {
  it('marks a run held, then failed with the decision, and never un-succeeds a run', async () => {
    const { stores, source, activities, newRun, sync } = setup();
    const run = newRun();
    const env = activityEnv();
    await env.run(activities.markRunFailed, {
      ...run,
      trigger: 'schedule' as const,
      code: 'ConfluenceUnavailable',
      message: 'gave up after retrying',
    });
    expect(await stores.runs.get(run.runId)).toMatchObject({
      status: 'failed',
      error_code: 'ConfluenceUnavailable',
      error: 'gave up after retrying',
    });

    source.put({ id: PAGE_ID, storage: listPage(['AAPL']) });
    const held = newRun();
    await env.run(activities.fetchPages, { ...held, trigger: 'schedule' as const });
    await env.run(activities.holdForApproval, {
      ...held,
      reason: 'the sync would remove every instrument on the list (4)',
    });
    expect((await stores.runs.get(held.runId))?.status).toBe('awaiting_approval');
    await env.run(activities.markRunFailed, {
      ...held,
      trigger: 'schedule' as const,
      code: 'RemovalRejected',
      message: 'rejected by ops-bob',
      decision: { decision: 'rejected', by: 'ops-bob' },
    });
    expect(await stores.runs.get(held.runId)).toMatchObject({
      status: 'failed',
      decision: 'rejected',
      decided_by: 'ops-bob',
      error_code: 'RemovalRejected',
    });

    const { run: succeeded } = await sync();
    await env.run(activities.markRunFailed, {
      ...succeeded,
      trigger: 'schedule' as const,
      code: 'Late',
      message: 'late',
    });
    expect((await stores.runs.get(succeeded.runId))?.status).toBe('succeeded');
  });
});
