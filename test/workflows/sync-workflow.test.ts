import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveSignal, rejectSignal, stageQuery } from '../../src/temporal/contract.ts';
import {
  APPLIED,
  DIFF,
  FETCHED,
  createGate,
  failingTimes,
  stubActivities,
  type Step,
  type StepInput,
  type StubActivities,
} from '../helpers/stub-activities.ts';
import {
  failureOf,
  searchAttributesOf,
  startStubWorker,
  waitForSignalHandled,
  waitForStage,
  type StubWorker,
  type SyncHandle,
} from '../helpers/stub-worker.ts';
import { summariesOf } from '../helpers/temporal-history.ts';
import { waitFor } from '../helpers/wait.ts';

const REASON = 'the sync would remove 5 of 7 instruments (71%), more than the 20% allowed';
const HELD_DIFF = { ...DIFF, removed: 5, held: REASON };
const WAITING = `Waiting for an operator: ${REASON}. Approve or reject through the API; checks keep using the current list.`;
/** The steps a run takes up to the removal guard's hold; what follows is the operator's decision. */
const UNTIL_HOLD: Step[] = ['startRun', 'fetchPages', 'parsePages', 'diffList', 'holdForApproval'];

/** The workflow on the real Temporal dev server; every activity is a stub the test controls. */
describe('syncRestrictedList', () => {
  let worker: StubWorker;
  beforeAll(async () => {
    worker = await startStubWorker();
  });
  afterAll(() => worker.stop());

  const idsOf = (handle: SyncHandle) => ({
    workflowId: handle.workflowId,
    runId: handle.firstExecutionRunId,
  });

  /** Waits until the removal guard holds the run: the hold is recorded and the stage says so. */
  async function held(handle: SyncHandle, stubs: StubActivities) {
    await waitFor('the run to record its hold', async () =>
      stubs.inputsOf('holdForApproval').length > 0 ? true : undefined,
    );
    expect(await waitForStage(handle, /^Waiting for an operator/)).toBe(WAITING);
  }

  /** Waits for the run to fail, and returns the ApplicationFailure the workflow itself raised. */
  async function applicationFailureOf(handle: SyncHandle): Promise<ApplicationFailure> {
    const error = await failureOf(handle);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return cause as ApplicationFailure;
  }

  /** A held run (started by the schedule) ended without applying: it was marked failed once, saying why. */
  function expectFailedAfterHold(
    stubs: StubActivities,
    run: ReturnType<typeof idsOf>,
    failure: Omit<StepInput<'markRunFailed'>, 'workflowId' | 'runId' | 'trigger'>,
  ) {
    expect(stubs.steps()).toEqual([...UNTIL_HOLD, 'markRunFailed']);
    expect(stubs.inputsOf('markRunFailed')).toEqual([{ ...run, trigger: 'schedule', ...failure }]);
  }

  it('fetches, parses, diffs and applies in order with the run ids, and returns what apply reported', async () => {
    const stubs = stubActivities();
    const handle = await worker.start(stubs, { trigger: 'manual', requestedBy: 'ops-alice' });
    const result = await handle.result();
    const run = idsOf(handle);

    expect(stubs.steps()).toEqual(['startRun', 'fetchPages', 'parsePages', 'diffList', 'applyDiff']);
    expect(stubs.inputsOf('fetchPages')).toEqual([{ ...run, trigger: 'manual', requestedBy: 'ops-alice' }]);
    expect(stubs.inputsOf('parsePages')).toEqual([run]);
    expect(stubs.inputsOf('diffList')).toEqual([run]);
    expect(stubs.inputsOf('applyDiff')).toEqual([{ ...run, approvedBy: null }]);
    expect(result).toEqual({
      status: 'succeeded',
      runId: run.runId,
      listVersion: 42,
      added: 3,
      removed: 1,
      modified: 2,
      unchanged: 6,
      instrumentCount: 12,
      warningCount: 2,
      pages: FETCHED.pages,
    });
    expect(await searchAttributesOf(handle)).toEqual({
      RestrictedListPageVersions: ['1001:v7', '1002:v3'],
      RestrictedListAdded: 3,
      RestrictedListRemoved: 1,
      RestrictedListModified: 2,
      RestrictedListChangedInstruments: APPLIED.changedInstruments,
    });
    expect(await handle.query(stageQuery)).toBe(`${APPLIED.summary}; list version 42`);
  });

  it('says in words what each step does, from what the run knows at that point', async () => {
    const stubs = stubActivities();
    const handle = await worker.start(stubs);
    await handle.result();
    expect(await summariesOf(handle)).toEqual([
      {
        kind: 'activity',
        type: 'startRun',
        summary: 'Record the run (skipped if another sync is in progress)',
      },
      { kind: 'activity', type: 'fetchPages', summary: 'Fetch pages 1001 (stored v6), 1002 (stored v3)' },
      { kind: 'activity', type: 'parsePages', summary: 'Parse 2 pages (1001 v7, 1002 v3)' },
      {
        kind: 'activity',
        type: 'diffList',
        summary: 'Compare 12 instruments (2 parse warnings) with list v41',
      },
      { kind: 'activity', type: 'applyDiff', summary: 'Apply +3 −1 ~2 → list v42' },
    ]);
  });

  it('gives way to a sync in progress: no other step runs, and the result names that sync', async () => {
    const stubs = stubActivities({
      startRun: async () => ({
        skipped: {
          workflowId: 'restricted-list-sync-manual-x',
          runId: 'run-x',
          startedBy: 'ops-alice (manual)',
        },
        baseline: { listVersion: null, activeCount: 0, pages: [] },
      }),
    });
    const handle = await worker.start(stubs);
    const result = await handle.result();
    expect(result).toEqual({
      status: 'skipped',
      runId: handle.firstExecutionRunId,
      inProgress: { workflowId: 'restricted-list-sync-manual-x', runId: 'run-x' },
    });
    expect(stubs.steps()).toEqual(['startRun']);
    expect(await handle.query(stageQuery)).toBe(
      'Skipped: sync restricted-list-sync-manual-x (started by ops-alice (manual)) is in progress; one sync runs at a time.',
    );
  });

  describe('removal guard', () => {
    it('holds the run until an operator approves, then applies with the approver recorded', async () => {
      const stubs = stubActivities({ diffList: async () => HELD_DIFF });
      const handle = await worker.start(stubs);
      const run = idsOf(handle);
      await held(handle, stubs);

      expect(stubs.steps()).toEqual(UNTIL_HOLD);
      expect(stubs.inputsOf('holdForApproval')).toEqual([{ ...run, reason: REASON }]);
      expect((await handle.describe()).status.name).toBe('RUNNING');

      await handle.signal(approveSignal, { by: 'ops-alice' });
      const result = await handle.result();
      expect(stubs.steps()).toEqual([...UNTIL_HOLD, 'applyDiff']);
      expect(stubs.inputsOf('applyDiff')).toEqual([{ ...run, approvedBy: 'ops-alice' }]);
      expect(result).toMatchObject({ status: 'succeeded', runId: run.runId, listVersion: 42, removed: 1 });
    });

    it('fails as RemovalRejected on reject, records the decision and applies nothing', async () => {
      const stubs = stubActivities({ diffList: async () => HELD_DIFF });
      const handle = await worker.start(stubs, { trigger: 'schedule' });
      const run = idsOf(handle);
      await held(handle, stubs);

      await handle.signal(rejectSignal, { by: 'ops-bob' });
      const cause = await applicationFailureOf(handle);
      const message = `rejected by ops-bob: ${REASON}; nothing applied`;
      expect(cause).toMatchObject({ type: 'RemovalRejected', message, nonRetryable: true });
      expectFailedAfterHold(stubs, run, {
        code: 'RemovalRejected',
        message,
        decision: { decision: 'rejected', by: 'ops-bob' },
      });
      expect(await handle.query(stageQuery)).toBe(`Ended: ${message}. The cached list is unchanged.`);
    });

    it('fails as ApprovalTimedOut when nobody decides within approvalTimeoutMs', async () => {
      const stubs = stubActivities({ diffList: async () => HELD_DIFF });
      const handle = await worker.start(stubs, { trigger: 'schedule', approvalTimeoutMs: 2_000 });
      const run = idsOf(handle);
      await held(handle, stubs);

      const cause = await applicationFailureOf(handle);
      expect(cause).toMatchObject({ type: 'ApprovalTimedOut', nonRetryable: true });
      expect(cause.message).toBe(`nobody approved within 2 s: ${REASON}; nothing applied`);
      expect(cause.message.endsWith(`: ${REASON}; nothing applied`)).toBe(true);
      expectFailedAfterHold(stubs, run, {
        code: 'ApprovalTimedOut',
        message: cause.message,
        decision: { decision: 'expired', by: null },
      });
      // It was the approval timer that ended the wait, and the timer says what it waits for.
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((event) => event.timerFiredEventAttributes)).toHaveLength(1);
      expect(
        (await summariesOf(handle))
          .filter((entry) => entry.kind !== 'activity' || entry.type !== 'startRun')
          .slice(3),
      ).toEqual([
        {
          kind: 'activity',
          type: 'holdForApproval',
          summary: `Mark the run held for an operator: ${REASON}`,
        },
        { kind: 'timer', type: null, summary: `Wait up to 2 s for an operator's decision: ${REASON}` },
        {
          kind: 'activity',
          type: 'markRunFailed',
          summary: `Record the failure: ApprovalTimedOut: nobody approved within 2 s: ${REASON}; nothing applied`,
        },
      ]);
    });

    it.each(['fetchPages', 'diffList'] as const)(
      'ignores an approval sent while the run is in %s; the hold needs a fresh decision',
      async (gatedStep) => {
        const gate = createGate(`the run to reach ${gatedStep}`);
        const stubs = stubActivities({
          fetchPages: async () => {
            if (gatedStep === 'fetchPages') await gate.pass();
            return FETCHED;
          },
          diffList: async () => {
            if (gatedStep === 'diffList') await gate.pass();
            return HELD_DIFF;
          },
        });
        const handle = await worker.start(stubs);
        const run = idsOf(handle);
        await gate.reached();
        await handle.signal(approveSignal, { by: 'ops-early' });
        await waitForSignalHandled(handle, approveSignal.name);
        gate.release();

        await held(handle, stubs);
        expect(stubs.inputsOf('applyDiff')).toEqual([]);
        await handle.signal(approveSignal, { by: 'ops-alice' });
        await handle.result();
        // Had the early approval counted, apply would have run at once, approved by ops-early.
        expect(stubs.steps()).toEqual([...UNTIL_HOLD, 'applyDiff']);
        expect(stubs.inputsOf('applyDiff')).toEqual([{ ...run, approvedBy: 'ops-alice' }]);
      },
    );
  });

  describe('a failing step', () => {
    const ORDER: Step[] = ['fetchPages', 'parsePages', 'diffList', 'applyDiff'];
    it.each([
      {
        step: 'fetchPages',
        type: 'ConfluenceAuthError',
        message: 'Confluence rejected the credentials (401)',
      },
      {
        step: 'parsePages',
        type: 'ParseError',
        message: 'page 1001 has no table with a Ticker or ISIN column',
      },
      // The workflow records whatever type a step raised, known or not.
      { step: 'diffList', type: 'StubDiffFailure', message: 'the cached list could not be compared' },
      {
        step: 'applyDiff',
        type: 'ListChangedWhileHeld',
        message: 'the list changed since the diff; nothing applied',
      },
    ] as const)(
      'ends the run when $step fails with $type: marks it failed once with the ids, and runs no later step',
      async ({ step, type, message }) => {
        const stubs = stubActivities({
          [step]: async () => {
            throw ApplicationFailure.create({ type, message, nonRetryable: true });
          },
        });
        const handle = await worker.start(stubs, { trigger: 'schedule' });
        const run = idsOf(handle);

        const error = await failureOf(handle);
        expect(error).toBeInstanceOf(WorkflowFailedError);
        const activityFailure = (error as WorkflowFailedError).cause;
        expect(activityFailure).toBeInstanceOf(ActivityFailure);
        expect(activityFailure).toMatchObject({ activityType: step });
        expect(activityFailure!.cause).toBeInstanceOf(ApplicationFailure);
        expect(activityFailure!.cause).toMatchObject({ type, message, nonRetryable: true });

        expect(stubs.steps()).toEqual([
          'startRun',
          ...ORDER.slice(0, ORDER.indexOf(step) + 1),
          'markRunFailed',
        ]);
        expect(stubs.inputsOf('markRunFailed')).toEqual([
          { ...run, trigger: 'schedule', code: type, message },
        ]);
        expect(await handle.query(stageQuery)).toBe(
          `Failed (${type}): ${message}. The cached list is unchanged.`,
        );
      },
    );

    it('retries a step that fails with a plain Error, and the run succeeds', async () => {
      const stubs = stubActivities({ fetchPages: failingTimes(2, async () => FETCHED) });
      const handle = await worker.start(stubs);
      const run = idsOf(handle);

      const result = await handle.result();
      expect(stubs.attemptsOf('fetchPages')).toEqual([1, 2, 3]);
      expect(stubs.inputsOf('fetchPages')).toEqual(Array(3).fill({ ...run, trigger: 'manual' }));
      expect(stubs.steps()).toEqual([
        'startRun',
        'fetchPages',
        'fetchPages',
        'fetchPages',
        'parsePages',
        'diffList',
        'applyDiff',
      ]);
      expect(result).toMatchObject({ status: 'succeeded', runId: run.runId, pages: FETCHED.pages });
    });
  });
});
