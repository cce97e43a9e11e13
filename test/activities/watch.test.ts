import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createWatchActivities, INITIAL_WATCH_STATE } from '../../activities/watch.ts';
import { ConfluenceRateLimitError, ConfluenceUnavailableError } from '../../src/confluence/errors.ts';
import type { ProbedPages, WatchState } from '../../src/sync/watch.ts';
import type { TriggeredRun } from '../../src/temporal/run-start.ts';

const TICK_MS = 20;

/** A Confluence whose page versions a test sets, and a run starter that records what it was asked. */
function setup(options: { alreadyRunning?: boolean } = {}) {
  let versions = new Map<string, number>([['163841', 7]]);
  const failures: Error[] = [];
  let probes = 0;
  const stored = new Map<string, number>([['163841', 7]]);
  const starts: { trigger: string; change?: string | null }[] = [];
  let alreadyRunning = options.alreadyRunning ?? false;
  const activities = createWatchActivities({
    source: {
      async probe(): Promise<ProbedPages> {
        probes += 1;
        const failure = failures.shift();
        if (failure) throw failure;
        return { versions: new Map(versions), missing: [] };
      },
    },
    storedVersions: async () => stored,
    starter: {
      async start(origin): Promise<TriggeredRun> {
        starts.push({ trigger: origin.trigger, change: origin.change ?? null });
        return { workflowId: 'restricted-list-sync-watch-x', runId: `run-${starts.length}`, alreadyRunning };
      },
    },
    everySeconds: 30,
    everyMs: TICK_MS,
  });
  const heartbeats: WatchState[] = [];
  /** The activity for `ms`, in its own context (resuming from `details` when given). */
  const watch = (ms: number, details?: WatchState) => {
    const env = new MockActivityEnvironment(details ? { heartbeatDetails: details } : {}, {
      logger: new DefaultLogger('ERROR'),
    });
    env.on('heartbeat', (state: WatchState) => heartbeats.push(state));
    return env.run(activities.watchForEdits, { restAfterMs: ms }) as Promise<WatchState>;
  };
  return {
    watch,
    heartbeats,
    starts,
    stored,
    probes: () => probes,
    edit: (id: string, version: number) => {
      versions = new Map(versions).set(id, version);
    },
    failNext: (...errors: Error[]) => failures.push(...errors),
    setAlreadyRunning: (value: boolean) => (alreadyRunning = value),
  };
}

describe('the edit watch activity', () => {
  it('probes on every tick and, while nothing changes, starts nothing and writes nothing', async () => {
    const w = setup();
    const state = await w.watch(20 * TICK_MS);
    expect(w.starts).toEqual([]);
    expect(w.probes()).toBeGreaterThanOrEqual(3);
    expect(state).toMatchObject({
      everySeconds: 30,
      failuresInRow: 0,
      lastError: null,
      lastChangeSeenAt: null,
    });
    expect(state.lastProbeAt).not.toBeNull();
    // Its state goes out in heartbeats (for failover and for the status), one per tick at least.
    expect(w.heartbeats.length).toBeGreaterThanOrEqual(w.probes());
  });

  it('starts one sync for an edit, in words, and never a second for the same state', async () => {
    const w = setup();
    w.edit('163841', 8);
    const state = await w.watch(10 * TICK_MS);
    expect(w.probes()).toBeGreaterThanOrEqual(2);
    expect(w.starts).toEqual([{ trigger: 'watch', change: 'page 163841 is at v8 (the list has v7)' }]);
    expect(state.lastChangeSeenAt).not.toBeNull();
    expect(state.triggeredFor).toBe('163841:v8');
    // The sync applies v8; then a later edit starts the next one.
    w.stored.set('163841', 8);
    w.edit('163841', 9);
    await w.watch(8 * TICK_MS, state);
    expect(w.starts.map((s) => s.change)).toEqual([
      'page 163841 is at v8 (the list has v7)',
      'page 163841 is at v9 (the list has v8)',
    ]);
  });

  it('asks again on the next tick while a sync already in progress may have read the page before the edit', async () => {
    const w = setup({ alreadyRunning: true });
    w.edit('163841', 8);
    await w.watch(30 * TICK_MS);
    expect(w.starts.length).toBeGreaterThanOrEqual(3);
    w.setAlreadyRunning(false);
    const before = w.starts.length;
    await w.watch(30 * TICK_MS);
    expect(w.starts.length).toBe(before + 1);
  });

  it('counts failed probes in a row with the reason, and forgets them after a good probe', async () => {
    const w = setup();
    const down = new ConfluenceUnavailableError(
      'get versions of pages 163841',
      'Confluence answered 503 Service Unavailable',
    );
    w.failNext(down, down, down);
    const recovered = await w.watch(30 * TICK_MS);
    expect(w.probes()).toBeGreaterThanOrEqual(4);
    expect(w.heartbeats.map((h) => h.failuresInRow)).toContain(3);
    expect(w.heartbeats.find((h) => h.failuresInRow === 3)).toMatchObject({ lastError: down.message });
    expect(w.starts).toEqual([]);
    expect(recovered).toMatchObject({ failuresInRow: 0, lastError: null });
  });

  it("after a 429 probes nothing until the server's Retry-After has passed", async () => {
    const w = setup();
    w.failNext(
      new ConfluenceRateLimitError(
        'get versions of pages 163841',
        'Confluence is rate limiting requests (429)',
        10 * TICK_MS,
      ),
    );
    const state = await w.watch(6 * TICK_MS);
    expect(w.probes()).toBe(1);
    expect(state.quietUntil).not.toBeNull();
    await w.watch(8 * TICK_MS, state);
    expect(w.probes()).toBeGreaterThan(1);
  });

  it('resumes from the last heartbeat on a retried attempt (another worker, after this one died)', async () => {
    const w = setup();
    w.edit('163841', 8);
    const seenBefore = {
      ...INITIAL_WATCH_STATE,
      everySeconds: 30,
      triggeredFor: '163841:v8',
      seenFor: '163841:v8',
      lastChangeSeenAt: '2026-12-01T10:00:00.000Z',
    };
    const state = await w.watch(4 * TICK_MS, seenBefore);
    // The sync for v8 was started before the failover: not started again.
    expect(w.starts).toEqual([]);
    expect(state.lastChangeSeenAt).toBe('2026-12-01T10:00:00.000Z');
  });

  it('does nothing on a worker whose RESTRICTED_LIST_WATCH_SECONDS is 0, and says so', async () => {
    const activities = createWatchActivities({
      source: { probe: async () => ({ versions: new Map(), missing: [] }) },
      storedVersions: async () => null,
      starter: { start: async () => ({ workflowId: 'x', runId: 'y', alreadyRunning: false }) },
      everySeconds: 0,
    });
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const state = (await env.run(activities.watchForEdits, { restAfterMs: 60_000 })) as WatchState;
    expect(state.everySeconds).toBe(0);
  });
});
