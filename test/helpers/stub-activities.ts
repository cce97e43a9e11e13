import { activityInfo, cancellationSignal } from '@temporalio/activity';
import type { SyncActivities } from '../../activities/index.ts';
import type {
  ApplyStepResult,
  DiffStepResult,
  FetchResult,
  ParseStepResult,
  StartStepResult,
} from '../../src/temporal/contract.ts';
import { within } from './wait.ts';

export type Step = keyof SyncActivities;
export type StepInput<S extends Step> = Parameters<SyncActivities[S]>[0];

export const STEPS = [
  'startRun',
  'fetchPages',
  'parsePages',
  'diffList',
  'holdForApproval',
  'applyDiff',
  'markRunFailed',
] as const satisfies readonly Step[];

export interface RecordedCall {
  step: Step;
  input: unknown;
  /** The activity attempt (1 for the first try, 2 for the first retry, …). */
  attempt: number;
}

// What the stub steps return unless a test overrides them: small, distinct numbers so a result
// that mixes them up shows.
export const STARTED: StartStepResult = {
  skipped: null,
  baseline: {
    listVersion: 41,
    activeCount: 8,
    pages: [
      { id: '1001', title: 'Restricted list', version: 6, url: 'https://wiki.example/pages/1001' },
      { id: '1002', title: 'Restricted list (EMEA)', version: 3, url: null },
    ],
  },
};
export const FETCHED: FetchResult = {
  pages: [
    { id: '1001', title: 'Restricted list', version: 7, url: 'https://wiki.example/pages/1001' },
    { id: '1002', title: 'Restricted list (EMEA)', version: 3, url: null },
  ],
  summary: 'Fetched page 1001 v7, page 1002 v3',
};
export const PARSED: ParseStepResult = {
  instrumentCount: 12,
  warningCount: 2,
  summary: 'Parsed 12 instruments, 2 warnings',
};
export const DIFF: DiffStepResult = {
  added: 3,
  removed: 1,
  modified: 2,
  unchanged: 6,
  activeBefore: 7,
  held: null,
  summary: 'Diff: 3 added, 1 removed, 2 modified, 6 unchanged',
};
export const APPLIED: ApplyStepResult = {
  added: 3,
  removed: 1,
  modified: 2,
  unchanged: 6,
  listVersion: 42,
  durationMs: 5,
  changedInstruments: ['AAPL', 'MSFT', 'US0378331005', 'NVDA', 'TSLA', 'IBM'],
  summary: 'Applied 3 added, 1 removed, 2 modified, 6 unchanged in 5 ms',
};

const DEFAULTS: SyncActivities = {
  startRun: async () => STARTED,
  fetchPages: async () => FETCHED,
  parsePages: async () => PARSED,
  diffList: async () => DIFF,
  holdForApproval: async () => {},
  applyDiff: async () => APPLIED,
  markRunFailed: async () => {},
};

export interface StubActivities {
  /** What the worker runs for this stub's workflow: the overrides (or defaults), recorded. */
  readonly activities: SyncActivities;
  /** Every call, in the order the worker made them. */
  readonly calls: readonly RecordedCall[];
  /** The steps called, in order (a retried step appears once per attempt). */
  steps(): Step[];
  /** The inputs one step received, one per attempt. */
  inputsOf<S extends Step>(step: S): StepInput<S>[];
  attemptsOf(step: Step): number[];
}

/** Activities that do nothing but return fixed results and record how they were called. */
export function stubActivities(overrides: Partial<SyncActivities> = {}): StubActivities {
  const calls: RecordedCall[] = [];
  const impl: SyncActivities = { ...DEFAULTS, ...overrides };
  const recorded = (step: Step) => async (input: unknown) => {
    calls.push({ step, input, attempt: activityInfo().attempt });
    return (impl[step] as (input: unknown) => Promise<unknown>)(input);
  };
  return {
    activities: Object.fromEntries(STEPS.map((step) => [step, recorded(step)])) as SyncActivities,
    calls,
    steps: () => calls.map((call) => call.step),
    inputsOf: <S extends Step>(step: S) =>
      calls.filter((call) => call.step === step).map((call) => call.input as StepInput<S>),
    attemptsOf: (step) => calls.filter((call) => call.step === step).map((call) => call.attempt),
  };
}

/** A stub step that fails `times` times with a plain (retryable) Error, then does what `then` does. */
export function failingTimes<A extends unknown[], R>(
  times: number,
  then: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  let failures = 0;
  return async (...args) => {
    if (failures < times) {
      failures += 1;
      throw new Error(`transient failure ${failures} of ${times}`);
    }
    return then(...args);
  };
}

export interface Gate {
  /** Called inside a stub activity: reports it was reached, then blocks until released. */
  pass(): Promise<void>;
  /** Resolves once a stub reached the gate; rejects after `timeoutMs`. */
  reached(timeoutMs?: number): Promise<void>;
  release(): void;
}

/**
 * Holds a run inside one step until the test lets it go. A worker shutdown cancels the blocked
 * activity, so a test that fails before releasing does not hang the worker.
 */
export function createGate(what: string): Gate {
  let markReached!: () => void;
  const wasReached = new Promise<void>((resolve) => (markReached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    async pass() {
      markReached();
      const signal = cancellationSignal();
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        void released.then(resolve);
      });
    },
    reached: (timeoutMs) => within(what, wasReached, timeoutMs),
    release: () => release(),
  };
}
