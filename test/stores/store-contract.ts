/**
 * The stores' contract: what the activities, the API and the check index rely on. Run against the
 * knex stores on real Postgres and against the in-memory fake, so the fake cannot drift from what
 * Postgres does.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DesiredInstrument, PageEditor, StoredPage } from '../../src/domain/index.ts';
import type { Stores } from '../../src/stores/types.ts';
import { countDiff, diffInstruments } from '../../src/sync/diff.ts';

export interface StoreFixture {
  stores: Stores;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function instrument(ticker: string | null, isin: string | null, extra: Partial<DesiredInstrument> = {}) {
  return {
    ticker,
    isin,
    name: ticker === null ? null : `${ticker} Inc.`,
    restriction_type: 'full',
    reason: 'Inside information',
    effective_from: null,
    expires_at: null,
    source_page_id: '163841',
    ...extra,
  } satisfies DesiredInstrument;
}

function page(id: string, version: number, body = `<table>${id}</table>`): StoredPage {
  return {
    id,
    title: `Page ${id}`,
    version,
    url: `https://example.atlassian.net/wiki/spaces/COMP/pages/${id}`,
    editedBy: 'Compliance Officer',
    editedAt: '2026-11-21T09:00:00.000Z',
    format: 'storage',
    body,
  };
}

/** What the apply activity does, in brief: the diff against the cache, applied under the lock. */
async function apply(
  stores: Stores,
  runId: string,
  desired: DesiredInstrument[],
  editors: ReadonlyMap<string, PageEditor> = new Map([
    ['163841', { version: 1, editedBy: 'Compliance Officer', editedAt: '2026-11-21T09:00:00.000Z' }],
  ]),
) {
  return stores.withApplyLock(async (tx) => {
    const stored = await tx.instruments.listAll();
    const diff = diffInstruments(stored, desired);
    const counts = countDiff(diff);
    const previous = await tx.runs.currentListVersion();
    const listVersion = (previous ?? 0) + 1;
    const at = await tx.now();
    await tx.instruments.applyDiff(diff, { runId, listVersion, at, pages: editors });
    await tx.runs.markSucceeded(runId, {
      ...counts,
      listVersion,
      instrumentCount: desired.length,
      approvedBy: null,
      appliedAt: at,
    });
    await tx.notifyListChanged(listVersion);
    return { at, listVersion, counts };
  });
}

async function startRun(stores: Stores, id = randomUUID()) {
  await stores.runs.start({ id, workflowId: `wf-${id}`, trigger: 'schedule' });
  return id;
}

export function describeStoreContract(name: string, open: () => Promise<StoreFixture>): void {
  /** Each test on stores of its own: nothing one test writes is seen by another. */
  const withStores = (test: (stores: Stores) => Promise<void>) => async () => {
    const fixture = await open();
    try {
      await test(fixture.stores);
    } finally {
      await fixture.close();
    }
  };

  describe(`${name}: runs`, () => {
    it(
      'start records a running run once, however often a retried step calls it',
      withStores(async (stores) => {
        await stores.runs.start({
          id: 'r1',
          workflowId: 'wf-1',
          trigger: 'manual',
          requestedBy: 'ops-alice',
        });
        await stores.runs.start({ id: 'r1', workflowId: 'wf-1', trigger: 'schedule' });
        const run = await stores.runs.get('r1');
        expect(run).toMatchObject({
          id: 'r1',
          workflow_id: 'wf-1',
          trigger: 'manual',
          requested_by: 'ops-alice',
          status: 'running',
          finished_at: null,
          added: null,
          removed: null,
          modified: null,
          unchanged: null,
          list_version: null,
          pages: [],
          warnings: [],
          error_code: null,
          error: null,
          held_reason: null,
          decision: null,
          decided_by: null,
          decided_at: null,
        });
        expect(run!.started_at).toBeInstanceOf(Date);
        expect(await stores.runs.get('nope')).toBeUndefined();
      }),
    );

    it(
      'lists runs newest first, by workflow id too, and counts them by status',
      withStores(async (stores) => {
        for (const id of ['a', 'b', 'c']) {
          await stores.runs.start({ id, workflowId: id === 'c' ? 'wf-a' : `wf-${id}`, trigger: 'schedule' });
          await sleep(5);
        }
        await stores.runs.markFailed('b', { code: 'ParseError', message: 'no table' });
        expect((await stores.runs.recent(10)).map((run) => run.id)).toEqual(['c', 'b', 'a']);
        expect((await stores.runs.recent(2)).map((run) => run.id)).toEqual(['c', 'b']);
        expect((await stores.runs.latest())?.id).toBe('c');
        expect((await stores.runs.byWorkflowId('wf-a')).map((run) => run.id)).toEqual(['c', 'a']);
        expect(await stores.runs.byWorkflowId('wf-none')).toEqual([]);
        expect(await stores.runs.countByStatus()).toEqual({
          running: 2,
          awaiting_approval: 0,
          succeeded: 0,
          failed: 1,
        });
      }),
    );

    it(
      'only a running run can be held, and a failure never overrides a success',
      withStores(async (stores) => {
        const held = await startRun(stores);
        await stores.runs.markAwaitingApproval(
          held,
          'the sync would remove every instrument on the list (4)',
        );
        expect(await stores.runs.get(held)).toMatchObject({
          status: 'awaiting_approval',
          held_reason: 'the sync would remove every instrument on the list (4)',
        });
        await stores.runs.markFailed(held, {
          code: 'RemovalRejected',
          message: 'rejected by ops-alice',
          decision: { decision: 'rejected', by: 'ops-alice' },
        });
        const rejected = await stores.runs.get(held);
        expect(rejected).toMatchObject({
          status: 'failed',
          error_code: 'RemovalRejected',
          error: 'rejected by ops-alice',
          decision: 'rejected',
          decided_by: 'ops-alice',
        });
        expect(rejected!.finished_at).toBeInstanceOf(Date);
        expect(rejected!.decided_at).toBeInstanceOf(Date);
        await stores.runs.markAwaitingApproval(held, 'again');
        expect((await stores.runs.get(held))?.status).toBe('failed');

        const applied = await startRun(stores);
        await apply(stores, applied, [instrument('AAPL', 'US0378331005')]);
        await stores.runs.markFailed(applied, { code: 'Late', message: 'a late failure report' });
        expect(await stores.runs.get(applied)).toMatchObject({
          status: 'succeeded',
          error: null,
          error_code: null,
        });
      }),
    );

    it(
      'keeps the warnings and page checksums of a run as they were written',
      withStores(async (stores) => {
        const id = await startRun(stores);
        const warnings = [
          {
            page: '163841',
            table: 1,
            row: 3,
            column: 'ISIN',
            problem: 'not a valid ISIN',
            raw: 'US123',
            code: 'invalid_isin' as const,
          },
        ];
        const checksums = [
          {
            pageId: '163841',
            expected: 42,
            found: 41,
            holds: false,
            text: 'Instrument count: 42',
            where: 'a paragraph',
          },
        ];
        expect((await stores.runs.get(id))?.checksums).toEqual([]);
        await stores.runs.saveParseOutcome(id, { warnings, checksums });
        expect(await stores.runs.get(id)).toMatchObject({ warnings, checksums });
      }),
    );

    it(
      'knows the applied list: none before the first success, then the latest success',
      withStores(async (stores) => {
        expect(await stores.runs.appliedState()).toEqual({ listVersion: null, asOf: null });
        expect(await stores.runs.currentListVersion()).toBeNull();
        expect(await stores.runs.latestSuccess()).toBeUndefined();
        const first = await startRun(stores);
        const one = await apply(stores, first, [instrument('AAPL', null)]);
        await sleep(5);
        const second = await startRun(stores);
        const two = await apply(stores, second, [instrument('AAPL', null), instrument('MSFT', null)]);
        await startRun(stores); // running: not applied
        expect(await stores.runs.appliedState()).toEqual({ listVersion: 2, asOf: two.at });
        expect(await stores.runs.currentListVersion()).toBe(2);
        expect(await stores.runs.latestSuccess()).toMatchObject({
          id: second,
          status: 'succeeded',
          list_version: 2,
          added: 1,
          removed: 0,
          modified: 0,
          unchanged: 1,
          instrument_count: 2,
          finished_at: two.at,
        });
        expect(one.at.getTime()).toBeLessThan(two.at.getTime());
      }),
    );
  });

  describe(`${name}: the run-start transaction`, () => {
    it(
      'knows the unfinished runs (running or held), newest first',
      withStores(async (stores) => {
        const held = await startRun(stores);
        await stores.runs.markAwaitingApproval(held, 'held');
        await sleep(5);
        const failed = await startRun(stores);
        await stores.runs.markFailed(failed, { code: 'ParseError', message: 'no table' });
        await sleep(5);
        const running = await startRun(stores);
        await sleep(5);
        const applied = await startRun(stores);
        await apply(stores, applied, []);
        expect((await stores.runs.unfinished()).map((run) => [run.id, run.status])).toEqual([
          [running, 'running'],
          [held, 'awaiting_approval'],
        ]);
      }),
    );

    it(
      'decides and records one start at a time, and a throw records nothing',
      withStores(async (stores) => {
        const order: string[] = [];
        let release!: () => void;
        const holding = new Promise<void>((resolve) => (release = resolve));
        let entered!: () => void;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const first = stores.withRunStartLock(async (tx) => {
          order.push('first sees ' + (await tx.runs.unfinished()).length);
          await tx.runs.start({
            id: 'first',
            workflowId: 'wf-first',
            trigger: 'manual',
            requestedBy: 'ops-alice',
          });
          entered();
          await holding;
        });
        await inside;
        const second = stores.withRunStartLock(async (tx) => {
          order.push('second sees ' + (await tx.runs.unfinished()).map((run) => run.id).join(','));
        });
        await sleep(50);
        expect(order).toEqual(['first sees 0']);
        release();
        await Promise.all([first, second]);
        expect(order).toEqual(['first sees 0', 'second sees first']);

        const refused = new Error('Temporal refused the start');
        await expect(
          stores.withRunStartLock(async (tx) => {
            await tx.runs.start({ id: 'lost', workflowId: 'wf-lost', trigger: 'manual' });
            throw refused;
          }),
        ).rejects.toBe(refused);
        expect(await stores.runs.get('lost')).toBeUndefined();
      }),
    );
  });

  describe(`${name}: claim checks`, () => {
    it(
      'keeps fresh pages and copies unchanged ones from the run that stored them',
      withStores(async (stores) => {
        const first = await startRun(stores);
        expect(await stores.claimChecks.latestStoredPages()).toBeNull();
        const refs = await stores.claimChecks.savePages(first, [page('200', 3), page('100', 7)]);
        expect(refs).toEqual([
          { id: '100', title: 'Page 100', version: 7, url: page('100', 7).url },
          { id: '200', title: 'Page 200', version: 3, url: page('200', 3).url },
        ]);
        expect((await stores.runs.get(first))?.pages).toEqual(refs);
        // Not a success yet: nothing to reuse.
        expect(await stores.claimChecks.latestStoredPages()).toBeNull();
        await apply(stores, first, []);
        expect(await stores.claimChecks.latestStoredPages()).toEqual({
          runId: first,
          versions: new Map([
            ['100', 7],
            ['200', 3],
          ]),
        });

        const second = await startRun(stores);
        await stores.claimChecks.savePages(second, [page('200', 4, '<table>v4</table>')], {
          fromRunId: first,
          ids: ['100'],
        });
        const pages = await stores.claimChecks.loadPages(second);
        expect(pages).toEqual([page('100', 7), page('200', 4, '<table>v4</table>')]);
        expect(await stores.claimChecks.loadPageEditors(second)).toEqual(
          new Map([
            ['100', { version: 7, editedBy: 'Compliance Officer', editedAt: '2026-11-21T09:00:00.000Z' }],
            ['200', { version: 4, editedBy: 'Compliance Officer', editedAt: '2026-11-21T09:00:00.000Z' }],
          ]),
        );
        // Saving again (a retried fetch) replaces, never duplicates.
        await stores.claimChecks.savePages(second, [page('200', 4)]);
        expect((await stores.claimChecks.loadPages(second)).map((p) => p.id)).toEqual(['200']);
      }),
    );

    it(
      'hands artifacts from step to step as JSON, and says when a step has not run',
      withStores(async (stores) => {
        const id = await startRun(stores);
        await expect(stores.claimChecks.loadArtifact(id, 'parsed')).rejects.toThrow(
          `run ${id} has no parsed data: the step that produces it has not run`,
        );
        await stores.claimChecks.saveArtifact(id, 'parsed', {
          instruments: [instrument('AAPL', null)],
          at: new Date(0),
        });
        await stores.claimChecks.saveArtifact(id, 'parsed', {
          instruments: [instrument('MSFT', null)],
          at: new Date(0),
        });
        expect(await stores.claimChecks.loadArtifact(id, 'parsed')).toEqual({
          instruments: [instrument('MSFT', null)],
          at: '1970-01-01T00:00:00.000Z',
        });
        await expect(stores.claimChecks.loadArtifact(id, 'diff')).rejects.toThrow('has no diff data');
      }),
    );

    it(
      'prunes the claim-check data of all but the most recent runs',
      withStores(async (stores) => {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) {
          const id = await startRun(stores);
          await stores.claimChecks.savePages(id, [page('100', i + 1)]);
          await stores.claimChecks.saveArtifact(id, 'parsed', { i });
          ids.push(id);
          await sleep(5);
        }
        await stores.withApplyLock((tx) => tx.claimChecks.prune(2));
        for (const [i, id] of ids.entries()) {
          const kept = i >= 2;
          expect((await stores.claimChecks.loadPages(id)).length).toBe(kept ? 1 : 0);
          if (kept) expect(await stores.claimChecks.loadArtifact(id, 'parsed')).toEqual({ i });
          else await expect(stores.claimChecks.loadArtifact(id, 'parsed')).rejects.toThrow();
          // The run records themselves stay.
          expect((await stores.runs.get(id))?.pages).toHaveLength(1);
        }
      }),
    );
  });

  describe(`${name}: instruments and history`, () => {
    it(
      'applies additions, modifications, removals and returns, logging each with its page version and editor',
      withStores(async (stores) => {
        const editors = new Map([
          ['163841', { version: 5, editedBy: 'Carol Compliance', editedAt: '2026-11-30T16:45:00.000Z' }],
        ]);
        const first = await startRun(stores);
        await apply(
          stores,
          first,
          [instrument('AAPL', 'US0378331005'), instrument('MSFT', null), instrument('TSLA', null)],
          editors,
        );
        const before = await stores.instruments.listAll();
        expect(before.map((row) => [row.ticker, row.is_active])).toEqual([
          ['AAPL', true],
          ['MSFT', true],
          ['TSLA', true],
        ]);
        expect(await stores.instruments.countActive()).toBe(3);

        const second = await startRun(stores);
        await apply(stores, second, [
          instrument('AAPL', 'US0378331005', { reason: 'Deal team wall-crossed' }),
          instrument('TSLA', null),
        ]);
        const third = await startRun(stores);
        await apply(stores, third, [
          instrument('AAPL', 'US0378331005', { reason: 'Deal team wall-crossed' }),
          instrument('MSFT', null),
        ]);

        const rows = await stores.instruments.listAll();
        // Rows keep their ids: a modification is not a removal plus an addition, a return reuses its row.
        expect(rows.map((row) => [row.id, row.ticker, row.is_active, row.reason])).toEqual([
          [before[0]!.id, 'AAPL', true, 'Deal team wall-crossed'],
          [before[1]!.id, 'MSFT', true, 'Inside information'],
          [before[2]!.id, 'TSLA', false, 'Inside information'],
        ]);
        const changes = await stores.history.changes({ since: null, limit: 100 });
        expect(changes.map((c) => [c.list_version, c.change, c.ticker])).toEqual([
          [3, 'removed', 'TSLA'],
          [3, 'added', 'MSFT'],
          [2, 'removed', 'MSFT'],
          [2, 'modified', 'AAPL'],
          [1, 'added', 'TSLA'],
          [1, 'added', 'MSFT'],
          [1, 'added', 'AAPL'],
        ]);
        const modified = changes.find((c) => c.change === 'modified')!;
        expect(modified).toMatchObject({
          isin: 'US0378331005',
          before: expect.objectContaining({ reason: 'Inside information' }),
          after: expect.objectContaining({ reason: 'Deal team wall-crossed' }),
          page_id: '163841',
          run_id: second,
        });
        expect(changes.find((c) => c.list_version === 1)).toMatchObject({
          page_version: 5,
          edited_by: 'Carol Compliance',
          edited_at: new Date('2026-11-30T16:45:00.000Z'),
        });
        expect(changes.find((c) => c.change === 'removed' && c.ticker === 'MSFT')).toMatchObject({
          before: expect.objectContaining({ ticker: 'MSFT' }),
          after: null,
        });
        expect(Object.keys(modified.after!).sort()).toEqual([
          'effective_from',
          'expires_at',
          'isin',
          'name',
          'reason',
          'restriction_type',
          'ticker',
        ]);
      }),
    );

    /** Every page `readActiveList` hands over, and the applied state it answers. */
    async function readPages(stores: Stores, pageSize?: number, between?: () => Promise<void>) {
      const pages: (string | null)[][] = [];
      const state = await stores.instruments.readActiveList(
        async (rows) => {
          pages.push(rows.map((row) => row.ticker));
          if (pages.length === 1) await between?.();
        },
        pageSize === undefined ? {} : { pageSize },
      );
      return { state, pages };
    }

    it(
      'gives the active list with its applied state, nothing before the first success',
      withStores(async (stores) => {
        expect(await readPages(stores)).toEqual({ state: { listVersion: null, asOf: null }, pages: [] });
        const run = await startRun(stores);
        const { at } = await apply(stores, run, [instrument('AAPL', null), instrument(null, 'US5949181045')]);
        const { state, pages } = await readPages(stores);
        expect(state).toEqual({ listVersion: 1, asOf: at });
        expect(pages.flat().map((ticker) => ticker ?? 'no ticker')).toEqual(['AAPL', 'no ticker']);
      }),
    );

    it(
      'hands the active list over a page at a time, in id order, from one snapshot',
      withStores(async (stores) => {
        const tickers = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE'];
        const first = await apply(
          stores,
          await startRun(stores),
          tickers.map((t) => instrument(t, null)),
        );
        await apply(
          stores,
          await startRun(stores),
          [...tickers.slice(1), 'FFF'].map((t) => instrument(t, null)),
        );
        const { state, pages } = await readPages(stores, 2);
        expect(state.listVersion).toBe(2);
        // AAA left; FFF, added last, has the highest id.
        expect(pages).toEqual([['BBB', 'CCC'], ['DDD', 'EEE'], ['FFF']]);

        // An apply that commits while the pages are being read is not seen, neither its rows nor its state.
        const during = await readPages(stores, 2, async () => {
          await apply(stores, await startRun(stores), [instrument('ZZZ', null)]);
        });
        expect(during).toEqual({ state, pages });
        expect((await readPages(stores, 2)).pages).toEqual([['ZZZ']]);
        expect(first.listVersion).toBe(1);
      }),
    );

    it(
      'rebuilds the list at any past instant, narrowed to a check when asked',
      withStores(async (stores) => {
        const one = await apply(stores, await startRun(stores), [
          instrument('AAPL', 'US0378331005'),
          instrument('MSFT', null),
        ]);
        await sleep(5);
        const two = await apply(stores, await startRun(stores), [
          instrument('AAPL', 'US0378331005', { restriction_type: 'buy_only' }),
        ]);
        const beforeAll = new Date(one.at.getTime() - 1);
        const between = new Date(two.at.getTime() - 1);
        expect(await stores.history.stateAt(beforeAll)).toEqual([]);
        expect(await stores.history.listVersionAt(beforeAll)).toBeNull();
        expect(await stores.history.listVersionAt(between)).toEqual({ listVersion: 1, appliedAt: one.at });
        expect(await stores.history.listVersionAt(two.at)).toEqual({ listVersion: 2, appliedAt: two.at });

        const atOne = await stores.history.stateAt(between);
        expect(atOne.map((row) => [row.ticker, row.restriction_type, row.is_active])).toEqual([
          ['AAPL', 'full', true],
          ['MSFT', 'full', true],
        ]);
        const atTwo = await stores.history.stateAt(two.at);
        expect(
          atTwo.map((row) => [row.ticker, row.restriction_type, row.is_active, row.source_page_id]),
        ).toEqual([
          ['AAPL', 'buy_only', true, '163841'],
          ['MSFT', 'full', false, '163841'],
        ]);
        expect(
          (await stores.history.stateAt(two.at, { ticker: 'MSFT', isin: null })).map((r) => r.ticker),
        ).toEqual(['MSFT']);
        expect(
          (await stores.history.stateAt(two.at, { ticker: null, isin: 'US0378331005' })).map((r) => r.ticker),
        ).toEqual(['AAPL']);
        expect(await stores.history.stateAt(two.at, { ticker: 'IBM', isin: null })).toEqual([]);

        const since = await stores.history.changes({ since: between, limit: 100 });
        expect(since.map((c) => [c.change, c.ticker])).toEqual([
          ['removed', 'MSFT'],
          ['modified', 'AAPL'],
        ]);
        expect((await stores.history.changes({ since: null, limit: 1 })).map((c) => c.change)).toEqual([
          'removed',
        ]);
      }),
    );
  });

  describe(`${name}: edits behind a list version`, () => {
    it(
      'tell when the earliest edit of a version was saved and when it was applied',
      withStores(async (stores) => {
        expect(await stores.history.editsOf()).toBeNull();
        const editors = (editedAt: string | null) =>
          new Map([['163841', { version: 2, editedBy: 'Carol Compliance', editedAt }]]);
        const one = await apply(
          stores,
          await startRun(stores),
          [instrument('AAPL', null)],
          editors('2026-12-01T10:00:00.000Z'),
        );
        const two = await apply(
          stores,
          await startRun(stores),
          [instrument('AAPL', null), instrument('MSFT', null)],
          editors('2026-12-01T11:00:00.000Z'),
        );
        // A run that changes nothing is no list version's edits.
        await apply(stores, await startRun(stores), [instrument('AAPL', null), instrument('MSFT', null)]);
        expect(await stores.history.editsOf()).toEqual({
          listVersion: 2,
          earliestEditedAt: new Date('2026-12-01T11:00:00.000Z'),
          appliedAt: two.at,
        });
        expect(await stores.history.editsOf(1)).toEqual({
          listVersion: 1,
          earliestEditedAt: new Date('2026-12-01T10:00:00.000Z'),
          appliedAt: one.at,
        });
        expect(await stores.history.editsOf(7)).toBeNull();
      }),
    );
  });

  describe(`${name}: the apply transaction`, () => {
    it(
      'commits whole or not at all, and tells listeners only of what committed',
      withStores(async (stores) => {
        const heard: string[] = [];
        const subscription = await stores.listChanges.subscribe(
          () => heard.push('change'),
          () => undefined,
        );
        try {
          // Subscribing counts as a possible change (anything applied before may have been missed).
          await expect.poll(() => heard.length, { timeout: 10_000 }).toBe(1);
          const run = await startRun(stores);
          const failure = new Error('the database went away mid-apply');
          await expect(
            stores.withApplyLock(async (tx) => {
              const diff = diffInstruments([], [instrument('AAPL', null)]);
              const at = await tx.now();
              await tx.instruments.applyDiff(diff, { runId: run, listVersion: 1, at, pages: new Map() });
              await tx.runs.markSucceeded(run, {
                ...countDiff(diff),
                listVersion: 1,
                instrumentCount: 1,
                approvedBy: null,
                appliedAt: at,
              });
              await tx.notifyListChanged(1);
              // Inside the transaction its own writes are visible.
              expect((await tx.instruments.listAll()).map((row) => row.ticker)).toEqual(['AAPL']);
              throw failure;
            }),
          ).rejects.toBe(failure);
          expect(await stores.instruments.listAll()).toEqual([]);
          expect(await stores.history.changes({ since: null, limit: 10 })).toEqual([]);
          expect((await stores.runs.get(run))?.status).toBe('running');
          expect(await stores.runs.appliedState()).toEqual({ listVersion: null, asOf: null });

          await apply(stores, run, [instrument('AAPL', null)]);
          await expect.poll(() => heard.length, { timeout: 10_000 }).toBe(2);
          await sleep(20);
          expect(heard).toHaveLength(2);
        } finally {
          await subscription.close();
        }
      }),
    );

    it(
      'lets one apply at a time hold the lock',
      withStores(async (stores) => {
        const events: string[] = [];
        let releaseFirst!: () => void;
        const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
        let firstEntered!: () => void;
        const entered = new Promise<void>((resolve) => (firstEntered = resolve));
        const first = stores.withApplyLock(async () => {
          events.push('first in');
          firstEntered();
          await firstHolds;
          events.push('first out');
        });
        await entered;
        const second = stores.withApplyLock(async () => {
          events.push('second in');
        });
        await sleep(50);
        expect(events).toEqual(['first in']);
        releaseFirst();
        await Promise.all([first, second]);
        expect(events).toEqual(['first in', 'first out', 'second in']);
      }),
    );

    it(
      'stamps changes with the database clock, which moves forward',
      withStores(async (stores) => {
        const a = await stores.withApplyLock((tx) => tx.now());
        await sleep(5);
        const b = await stores.withApplyLock((tx) => tx.now());
        expect(a).toBeInstanceOf(Date);
        expect(b.getTime()).toBeGreaterThan(a.getTime());
      }),
    );
  });
}
