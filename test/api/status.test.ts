import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { squash, textOf } from '../browser/form-client.ts';
import { startApiOnFakes, type ApiOnFakes } from '../helpers/api-on-fakes.ts';

const RETRY_AT = '2026-12-01T10:00:08.000Z';

/** The dashboard as a signed-in reader sees it. */
async function dashboard(p: ApiOnFakes) {
  const browser = p.browser();
  await browser.signIn(p.tokens.read);
  return browser.get('/');
}
const UNAVAILABLE = 'get versions of pages 163841: Confluence answered 503 Service Unavailable';

/** What /v1/sync/status, the dashboard and their readers say while a step is retried, and of the edit watch. */
describe('status while a step is being retried', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes();
  });
  afterAll(() => p.stop());

  it('stays running but names the failure, the attempt and the next retry, in the contract’s words', async () => {
    const { listVersion } = await p.applyList();
    const run = await p.startRun();
    p.sync.setRetrying(run.runId, {
      step: 'fetchPages',
      code: 'ConfluenceUnavailableError',
      message: UNAVAILABLE,
      attempt: 3,
      nextRetryAt: new Date(RETRY_AT),
    });
    const { body: status } = await p.get('/v1/sync/status');
    expect(listVersion).toBe(1);
    expect(status.status).toBe('running');
    expect(status.message).toMatch(
      new RegExp(
        `^Sync retrying - ${UNAVAILABLE} \\(attempt 3\\); checks keep using cached data from \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`,
      ),
    );
    expect(status.last_error).toEqual({
      code: 'ConfluenceUnavailableError',
      message: UNAVAILABLE,
      attempt: 3,
      next_retry_at: RETRY_AT,
    });
    expect(status.current_run).toMatchObject({ run_id: run.runId, status: 'running' });

    // The dashboard shows it as a warning, not as progress.
    const page = await dashboard(p);
    const html = squash(page.text);
    expect(html).toContain('<div class="banner retrying" role="alert">');
    expect(textOf(page.text)).toContain(`Last error: ConfluenceUnavailableError: ${UNAVAILABLE}.`);
    expect(textOf(page.text)).toContain('Next attempt (3) at');
    expect(html).not.toContain('<strong class="title">Sync in progress</strong>');

    // Once the step succeeds, the run is simply in progress again.
    p.sync.setRetrying(run.runId, null);
    const { body: after } = await p.get('/v1/sync/status');
    expect(after.message).toMatch(/^Sync in progress - checks keep using cached data from /);
    expect(after.last_error).toBeNull();
  });

  it('a failed run keeps the seed’s words, its error without attempt or retry time', async () => {
    await p.failRun('ConfluenceAuthError', 'Confluence rejected the credentials');
    const { body: status } = await p.get('/v1/sync/status');
    expect(status.message).toMatch(/^Sync failed - using cached data from /);
    expect(status.last_error).toEqual({
      code: 'ConfluenceAuthError',
      message: 'Confluence rejected the credentials',
    });
  });
});

describe('status of the edit watch', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes({ env: { RESTRICTED_LIST_WATCH_SECONDS: '30' } });
    await p.applyList();
  });
  afterAll(() => p.stop());

  const watchState = (extra: Record<string, unknown> = {}) => ({
    everySeconds: 30,
    lastProbeAt: '2026-12-01T10:00:00.000Z',
    lastChangeSeenAt: '2026-12-01T09:30:00.000Z',
    seenFor: null,
    triggeredFor: null,
    failuresInRow: 0,
    lastError: null,
    quietUntil: null,
    ...extra,
  });

  it('says how often edits are watched, when it last probed and when it last saw a change', async () => {
    p.sync.setWatch({ running: true, state: watchState(), lastFailure: null });
    const { body } = await p.get('/v1/sync/status');
    expect(body.watch).toEqual({
      enabled: true,
      every_seconds: 30,
      last_probe_at: '2026-12-01T10:00:00.000Z',
      last_change_seen_at: '2026-12-01T09:30:00.000Z',
      last_enforcement_lag_seconds: null,
      error: null,
    });
    // The status itself is the sync's, whatever the watch does.
    expect(body.status).toBe('ok');
    const page = textOf((await dashboard(p)).text);
    expect(page).toContain('Edit watch every 30 s; last probe 2026-12-01 10:00:00 UTC');
  });

  it('after three failed probes in a row, says that edits are not being watched and why; a good probe clears it', async () => {
    p.sync.setWatch({
      running: true,
      state: watchState({ failuresInRow: 2, lastError: 'Confluence answered 503 Service Unavailable' }),
      lastFailure: null,
    });
    expect((await p.get('/v1/sync/status')).body.watch.error).toBeNull();
    p.sync.setWatch({
      running: true,
      state: watchState({ failuresInRow: 3, lastError: 'Confluence answered 503 Service Unavailable' }),
      lastFailure: null,
    });
    const { body } = await p.get('/v1/sync/status');
    expect(body.watch.error).toBe(
      'edits are not being watched: the last 3 probes of Confluence failed (Confluence answered 503 Service Unavailable); edits wait for the next scheduled sync',
    );
    expect(body.status).toBe('ok');
    const page = await dashboard(p);
    expect(squash(page.text)).toContain('<div class="banner unwatched" role="alert">');
    expect(textOf(page.text)).toContain('Edits in Confluence are not being watched');
    p.sync.setWatch({ running: true, state: watchState(), lastFailure: null });
    expect((await p.get('/v1/sync/status')).body.watch.error).toBeNull();
  });

  it('says so when no watch runs, and when Temporal cannot tell', async () => {
    p.sync.setWatch({ running: false, state: null, lastFailure: null });
    expect((await p.get('/v1/sync/status')).body.watch.error).toMatch(
      /^edits are not being watched: the watch is not running/,
    );
    p.sync.failNext('watch', new Error('14 UNAVAILABLE: connection refused'));
    expect((await p.get('/v1/sync/status')).body.watch.error).toBe(
      'cannot tell whether edits are watched: Temporal did not answer (14 UNAVAILABLE: connection refused)',
    );
  });
});

describe('status with the watch turned off', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes({ env: { RESTRICTED_LIST_WATCH_SECONDS: '0' } });
  });
  afterAll(() => p.stop());

  it('says the watch is off, and that this is no error', async () => {
    const { body } = await p.get('/v1/sync/status');
    expect(body.watch).toMatchObject({ enabled: false, every_seconds: 0, error: null });
    expect(textOf((await dashboard(p)).text)).toContain('off (RESTRICTED_LIST_WATCH_SECONDS=0)');
  });
});
