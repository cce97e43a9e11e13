import { Context, log } from '@temporalio/activity';
import { ConfluenceRateLimitError } from '../src/confluence/client.ts';
import type { ListSource } from '../src/sync/sources.ts';
import { detectChange, type WatchState } from '../src/sync/watch.ts';
import type { RunStarter } from '../src/temporal/run-start.ts';

export interface WatchDeps {
  source: Pick<ListSource, 'probe'>;
  /** The page versions the last successful sync stored; null before the first. */
  storedVersions(): Promise<ReadonlyMap<string, number> | null>;
  starter: Pick<RunStarter, 'start'>;
  /** RESTRICTED_LIST_WATCH_SECONDS of the worker running the watch; 0: the watch is off. */
  everySeconds: number;
  /** Tests tick faster than a second. */
  everyMs?: number;
}

/** Heartbeats at least this often, so a dead worker's watch moves to another within the heartbeat timeout. */
const HEARTBEAT_EVERY_MS = 5_000;

export const INITIAL_WATCH_STATE: WatchState = {
  everySeconds: 0,
  lastProbeAt: null,
  lastChangeSeenAt: null,
  seenFor: null,
  triggeredFor: null,
  failuresInRow: 0,
  lastError: null,
  quietUntil: null,
};

export function createWatchActivities(deps: WatchDeps) {
  const everyMs = deps.everyMs ?? deps.everySeconds * 1000;

  /** One tick: probe, compare with the stored list, start a sync for a change not yet handled. */
  async function tick(state: WatchState, now: Date): Promise<WatchState> {
    if (state.quietUntil !== null && now.getTime() < new Date(state.quietUntil).getTime()) return state;
    try {
      const probe = await deps.source.probe();
      const change = detectChange(probe, await deps.storedVersions());
      const probed = {
        ...state,
        lastProbeAt: now.toISOString(),
        failuresInRow: 0,
        lastError: null,
        quietUntil: null,
      };
      if (change === null) return { ...probed, seenFor: null, triggeredFor: null };
      const seen =
        change.key === state.seenFor
          ? probed
          : { ...probed, seenFor: change.key, lastChangeSeenAt: now.toISOString() };
      if (change.key === state.triggeredFor) return seen;
      const started = await deps.starter.start({ trigger: 'watch', change: change.words });
      log.info(
        started.alreadyRunning
          ? 'a change is seen; a sync is already in progress'
          : 'a change is seen; sync started',
        {
          change: change.words,
          workflowId: started.workflowId,
        },
      );
      // A sync already in progress may have read the page before the edit: ask again next tick.
      return started.alreadyRunning ? seen : { ...seen, triggeredFor: change.key };
    } catch (error) {
      const quietUntil =
        error instanceof ConfluenceRateLimitError && error.retryAfterMs !== null
          ? new Date(now.getTime() + error.retryAfterMs).toISOString()
          : null;
      log.warn('a probe of the list pages failed; the next tick tries again', {
        error: (error as Error).message,
      });
      return {
        ...state,
        failuresInRow: state.failuresInRow + 1,
        lastError: (error as Error).message,
        quietUntil,
      };
    }
  }

  return {
    /**
     * Probes the list pages every RESTRICTED_LIST_WATCH_SECONDS for `restAfterMs`, starting a sync
     * (one at a time, like any other) whenever they differ from the stored list. Writes nothing
     * while nothing changes. Returns its state; `everySeconds: 0` when the watch is off here.
     */
    async watchForEdits(input: { restAfterMs: number }): Promise<WatchState> {
      const context = Context.current();
      const resumed = (context.info.heartbeatDetails as WatchState | undefined) ?? INITIAL_WATCH_STATE;
      let state: WatchState = { ...resumed, everySeconds: deps.everySeconds };
      if (deps.everySeconds === 0) return state;
      const until = Date.now() + input.restAfterMs;
      while (Date.now() < until) {
        const tickStarted = Date.now();
        state = await tick(state, new Date());
        context.heartbeat(state);
        for (let due = tickStarted + everyMs; Date.now() < due;) {
          await context.sleep(Math.min(HEARTBEAT_EVERY_MS, due - Date.now()));
          context.heartbeat(state);
        }
      }
      return state;
    },
  };
}

export type WatchActivities = ReturnType<typeof createWatchActivities>;
