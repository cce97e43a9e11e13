import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../src/dev/demo-page.ts';
import {
  FAKE_FLAVOURS,
  startFakeConfluence,
  type FakeConfluence,
  type FakeFlavour,
} from '../src/dev/fake-confluence.ts';
import { startPipeline, type Pipeline } from './helpers/pipeline.ts';
import { waitFor } from './helpers/wait.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWithEnv({}, ...args);
}

async function cliWithEnv(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The command Compliance uses to preview a page before publishing it. */
describe('cli parse', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rls-cli-'));
    await writeFile(
      join(dir, 'list.xhtml'),
      `<table><tbody><tr><th><p>Ticker</p></th><th><p>ISIN</p></th><th><p>Reason</p></th><th><p>Type</p></th></tr>
       <tr><td><p>msft</p></td><td><p>US5949181045</p></td><td><p>Mandate</p></td><td><p>Buy only</p></td></tr>
       <tr><td><p>AAPL US Equity</p></td><td><p>US0378331006</p></td><td><p>MNPI</p></td><td><p></p></td></tr></tbody></table>`,
    );
    await writeFile(join(dir, 'prose.xhtml'), '<p>No table here.</p>');
    const counted = (count: number) =>
      `<p>Instrument count: ${count}</p><table><tbody><tr><th><p>Ticker</p></th></tr><tr><td><p>AAPL</p></td></tr><tr><td><p>MSFT; NVDA</p></td></tr></tbody></table>`;
    await writeFile(join(dir, 'holds.xhtml'), counted(3));
    await writeFile(join(dir, 'fails.xhtml'), counted(4));
  });

  it('says whether the page checksum holds, so Compliance can check a page before publishing it', async () => {
    const holds = await cli('parse', join(dir, 'holds.xhtml'));
    expect(holds.code).toBe(0);
    expect(holds.stdout.trim().split('\n').at(-1)).toBe(
      'checksum: holds: the page says 3 ("Instrument count: 3" in a paragraph) and 3 instruments were read',
    );
    const fails = await cli('parse', join(dir, 'fails.xhtml'));
    expect(fails.code).toBe(2);
    expect(fails.stdout.trim().split('\n').at(-1)).toBe(
      'checksum: DOES NOT HOLD: the page says 4 ("Instrument count: 4" in a paragraph) but 3 instruments were read; a sync would fail (ChecksumMismatch) and apply nothing',
    );
    const json = await cli('parse', join(dir, 'fails.xhtml'), '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).checksum).toEqual({
      expected: 4,
      found: 3,
      holds: false,
      text: 'Instrument count: 4',
      where: 'a paragraph',
    });
    const none = await cli('parse', join(dir, 'list.xhtml'));
    expect(none.stdout).toContain('checksum: none (write "Instrument count: N" on the page');
    expect(JSON.parse((await cli('parse', join(dir, 'list.xhtml'), '--json')).stdout).checksum).toBeNull();
  });

  it('prints the instruments, sorted, with contract fields and warnings, as JSON', async () => {
    const { code, stdout } = await cli('parse', join(dir, 'list.xhtml'), '--json');
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.instruments).toEqual([
      {
        ticker: 'AAPL US',
        isin: null,
        name: null,
        restriction_type: 'full',
        reason: 'MNPI',
        effective_from: null,
        expires_at: null,
      },
      {
        ticker: 'MSFT',
        isin: 'US5949181045',
        name: null,
        restriction_type: 'buy_only',
        reason: 'Mandate',
        effective_from: null,
        expires_at: null,
      },
    ]);
    // The invalid ISIN (bad check digit) is dropped with a warning; the row stays by its ticker.
    expect(body.warnings).toEqual([
      expect.objectContaining({ table: 1, row: 3, column: 'ISIN', raw: 'US0378331006' }),
    ]);
  });

  it('exits 2 with a parse_error for a page with no list table', async () => {
    const { code, stdout } = await cli('parse', join(dir, 'prose.xhtml'), '--json');
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ error: { code: 'parse_error', message: expect.any(String) } });
  });

  it('prints a readable table without --json', async () => {
    const { code, stdout } = await cli('parse', join(dir, 'list.xhtml'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ticker\s+isin\s+name\s+restriction_type/);
    expect(stdout).toContain('MSFT     US5949181045');
    expect(stdout).toContain('2 instruments, 1 warnings');
  });

  it('says how to use it when called wrongly', async () => {
    const { code, stderr } = await cli('parse');
    expect(code).toBe(64);
    expect(stderr).toContain('usage: npm run -s cli -- <command>');
  });
});

/** The token line of each flavour's answer to a wrong token (the variable names what to fix). */
const WRONG_TOKEN: Record<FakeFlavour, (fake: FakeConfluence) => string> = {
  cloud: (fake) =>
    `get versions of pages 600001: Confluence rejected the credentials for user ${fake.username} (401): check CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN, and that the user can read the page`,
  'cloud-scoped': (fake) =>
    `get versions of pages 600001: Confluence rejected the credentials for user ${fake.username} (401): check CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN, and that the user can read the page`,
  datacenter: () =>
    'get versions of pages 600001: Confluence rejected the personal access token (401): check CONFLUENCE_API_TOKEN (a Data Center personal access token that has not expired or been revoked), and that the user can read the page',
};

describe.each(FAKE_FLAVOURS)('cli preview on %s', (flavour) => {
  let fake: FakeConfluence;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await startFakeConfluence({ flavour });
    fake.putPage({
      id: '600001',
      title: 'Restricted Instruments',
      storage:
        '<table><tbody><tr><th>Ticker</th><th>Type</th></tr><tr><td>TSLA</td><td>Sell only</td></tr><tr><td>IBM</td><td>Perhaps</td></tr></tbody></table>',
    });
    env = { ...fake.env, RESTRICTED_INSTRUMENTS_PAGE_URL: fake.tinyLink('600001') };
    if (flavour === 'datacenter') {
      // A mounted secret, as Data Center deployments often hold their PAT.
      const dir = await mkdtemp(join(tmpdir(), 'rls-cli-'));
      await writeFile(join(dir, 'confluence_token'), `${fake.apiToken}\n`);
      const { CONFLUENCE_API_TOKEN: _inline, ...rest } = env;
      env = { ...rest, CONFLUENCE_API_TOKEN_FILE: join(dir, 'confluence_token') };
    }
  });
  afterAll(() => fake.close());

  it('resolves, fetches and parses the configured page without writing anything', async () => {
    const { code, stdout } = await cliWithEnv(env, 'preview', '--json');
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.pages).toEqual([
      { id: '600001', title: 'Restricted Instruments', version: 1, url: fake.pageUrl('600001') },
    ]);
    expect(
      body.instruments.map((i: { ticker: string; restriction_type: string }) => [
        i.ticker,
        i.restriction_type,
      ]),
    ).toEqual([
      ['IBM', 'full'], // an unknown type restricts fully, with a warning
      ['TSLA', 'sell_only'],
    ]);
    expect(body.warnings).toEqual([expect.objectContaining({ row: 3, raw: 'Perhaps' })]);
  });

  it('says in one line what failed and what to do, never showing the token', async () => {
    const { CONFLUENCE_API_TOKEN_FILE: _file, ...inline } = env;
    const { code, stdout, stderr } = await cliWithEnv(
      { ...inline, CONFLUENCE_API_TOKEN: 'a-wrong-token-1234' },
      'preview',
      '--json',
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([WRONG_TOKEN[flavour](fake)]);
    expect(stderr).not.toContain('a-wrong-token-1234');
  });

  // The checksum is read from the page body, the same on every flavour: once is enough.
  if (flavour === 'cloud')
    it('shows the list with why a sync would refuse it when the page checksum does not hold', async () => {
      const storage = fake.page('600001')!.storage;
      fake.putPage({
        id: '600001',
        title: 'Restricted Instruments',
        storage: `<p>Expected count = 5</p>${storage}`,
      });
      try {
        const { code, stdout } = await cliWithEnv(env, 'preview', '--json');
        expect(code).toBe(2);
        const body = JSON.parse(stdout);
        expect(body.instruments).toHaveLength(2);
        expect(body.checksums).toEqual([
          expect.objectContaining({ page_id: '600001', expected: 5, found: 2, holds: false }),
        ]);
        expect(body.error).toEqual({
          code: 'checksum_mismatch',
          message: expect.stringContaining('says it lists 5 instruments'),
        });
        const text = await cliWithEnv(env, 'preview');
        expect(text.code).toBe(2);
        expect(text.stdout).toContain('page 600001: checksum: DOES NOT HOLD: the page says 5');
      } finally {
        fake.putPage({ id: '600001', title: 'Restricted Instruments', storage });
      }
    });

  // Data Center says more with its 429 (its rate limiter's state); the gateway says what Cloud says.
  if (flavour !== 'cloud-scoped')
    it("rides out Confluence's rate limit as the sync does: each wait its Retry-After, announced", async () => {
      fake.fail({ status: 429, headers: { 'retry-after': '1' }, times: 2, kind: ['versions', 'page'] });
      const started = Date.now();
      const { code, stdout, stderr } = await cliWithEnv(env, 'preview', '--json');
      expect(code).toBe(0);
      expect(JSON.parse(stdout).instruments).toHaveLength(2);
      const detail = flavour === 'datacenter' ? ': 0 of 20 requests left, 10 more every 1 s' : '';
      expect(stderr.trim().split('\n')).toEqual([
        `get versions of pages 600001: Confluence is rate limiting requests (429, retry after 1 s)${detail}; waiting 1 s, then trying again (wait 1 of 3)`,
        `get versions of pages 600001: Confluence is rate limiting requests (429, retry after 1 s)${detail}; waiting 1 s, then trying again (wait 2 of 3)`,
      ]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    });

  if (flavour === 'cloud') {
    it('gives up after three waits, in one line', async () => {
      fake.fail({ status: 429, headers: { 'retry-after': '1' }, times: 4, kind: ['versions', 'page'] });
      const { code, stdout, stderr } = await cliWithEnv(env, 'preview', '--json');
      expect(code).toBe(1);
      expect(stdout).toBe('');
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[2]).toContain('(wait 3 of 3)');
      expect(lines[3]).toBe(
        'get versions of pages 600001: Confluence is rate limiting requests (429, retry after 1 s)',
      );
    });

    it('names the variable of a configuration error', async () => {
      const { code, stderr } = await cliWithEnv(
        { ...env, RESTRICTED_INSTRUMENTS_PAGE_URL: 'the list' },
        'preview',
      );
      expect(code).toBe(1);
      expect(stderr).toMatch(/^configuration error: RESTRICTED_INSTRUMENTS_PAGE_URL: /);
    });
  }
});

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const EMPTIED_PAGE = '<table><tbody><tr><th>Ticker</th><th>ISIN</th><th>Reason</th></tr></tbody></table>';

/** The commands operators and scripts run against the service's API. */
describe('cli against the API', () => {
  let p: Pipeline;
  let read: Record<string, string>;
  let admin: Record<string, string>;
  beforeAll(async () => {
    p = await startPipeline();
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    read = { RLS_API_URL: p.apiUrl, RLS_API_TOKEN: p.tokens.read };
    admin = { RLS_API_URL: p.apiUrl, RLS_API_TOKEN: p.tokens.admin };
  });
  afterAll(() => p.stop());

  describe('before any sync', () => {
    it('check exits 1 with the API\'s reason, never "not restricted"', async () => {
      const { code, stdout, stderr } = await cliWithEnv(read, 'check', 'AAPL');
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toEqual([
        'cannot check AAPL: no restricted list has been loaded yet (no sync has succeeded): the service cannot say an instrument is not restricted (503 list_unavailable)',
      ]);
    });

    it("check --json prints the API's error JSON and still exits 1", async () => {
      const { code, stdout } = await cliWithEnv(read, 'check', 'AAPL', '--json');
      expect(code).toBe(1);
      expect(JSON.parse(stdout)).toEqual({
        error: {
          code: 'list_unavailable',
          message: expect.stringContaining('cannot say an instrument is not restricted'),
        },
      });
    });

    it('status says no sync has run', async () => {
      const { code, stdout } = await cliWithEnv(read, 'status');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^status {8}never: No sync has run yet\nlast success {2}never\n/);
    });
  });

  describe('after a sync', () => {
    beforeAll(async () => {
      const { code, stdout, stderr } = await cliWithEnv(admin, 'sync', '--wait');
      expect(stderr).toMatch(/^sync started: \S+; waiting for it to end\n$/);
      expect(stdout).toMatch(
        /^sync succeeded: 4 added, 0 removed, 0 modified, 0 unchanged, 0 warnings \(list version \d+\)\n {2}http:\/\/\S+\/history\n$/,
      );
      expect(code).toBe(0);
    });

    it("status shows the sync, as text and as the API's JSON", async () => {
      const text = await cliWithEnv(read, 'status');
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('status        ok: Synced 4 instruments\n');
      expect(text.stdout).toContain('instruments   4 active\nstale         no\n');
      expect(text.stdout).toContain(
        `page          ${DEMO_PAGE_ID} "${DEMO_PAGE_TITLE}" v1  ${p.confluence.pageUrl(DEMO_PAGE_ID)}`,
      );
      const json = await cliWithEnv(read, 'status', '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual((await p.get('/v1/sync/status')).body);
    });

    it('check exits 3 for a restricted ticker, with the match', async () => {
      const { code, stdout } = await cliWithEnv(read, 'check', 'aapl');
      expect(code).toBe(3);
      expect(stdout).toMatch(
        /^RESTRICTED: aapl \(CRITICAL\)\n {2}AAPL {2}US0378331005 {2}Apple Inc\.\n {4}full: buying and selling restricted\n {4}reason: Inside information\nlist version \d+, synced \S+Z\n$/,
      );
    });

    it("check looks a valid ISIN up as an ISIN, and prints the API's JSON as is", async () => {
      const { code, stdout } = await cliWithEnv(read, 'check', 'US67066G1040', '--json');
      expect(code).toBe(3);
      const body = JSON.parse(stdout);
      expect(body).toEqual((await p.get('/v1/check?isin=US67066G1040')).body);
      expect(body.matches).toEqual([expect.objectContaining({ ticker: 'NVDA', isin: 'US67066G1040' })]);
    });

    it('check exits 0 when not restricted, for the side asked about', async () => {
      const ibm = await cliWithEnv(read, 'check', 'IBM');
      expect(ibm.code).toBe(0);
      expect(ibm.stdout).toMatch(/^not restricted: IBM\nlist version \d+, synced \S+Z\n$/);
      // MSFT is buy only: selling is allowed, buying is not.
      expect((await cliWithEnv(read, 'check', 'MSFT', '--side', 'sell')).code).toBe(0);
      const buy = await cliWithEnv(read, 'check', 'MSFT', '--side', 'buy', '--json');
      expect(buy.code).toBe(3);
      expect(JSON.parse(buy.stdout)).toMatchObject({
        restricted: true,
        severity: 'CRITICAL',
        matches: [{ ticker: 'MSFT', restriction_type: 'buy_only' }],
      });
    });

    it('check --at before the first sync exits 1, and a malformed --at is a usage error', async () => {
      const before = await cliWithEnv(read, 'check', 'AAPL', '--at', '2001-01-01T00:00:00Z');
      expect(before.code).toBe(1);
      expect(before.stderr).toContain('(503 list_unavailable)');
      const malformed = await cliWithEnv(read, 'check', 'AAPL', '--at', 'yesterday');
      expect(malformed.code).toBe(64);
      expect(malformed.stderr.trim()).toBe(
        'cannot check AAPL: at must be an ISO 8601 instant such as 2026-03-03T10:15:00Z (400 invalid_at)',
      );
    });

    it('reads the token from RLS_API_TOKEN_FILE', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rls-cli-token-'));
      await writeFile(join(dir, 'token'), `${p.tokens.read}\n`);
      expect(
        (await cliWithEnv({ RLS_API_URL: p.apiUrl, RLS_API_TOKEN_FILE: join(dir, 'token') }, 'check', 'TSLA'))
          .code,
      ).toBe(3);
    });

    it('says in one line that the token was refused, never showing it', async () => {
      const { code, stdout, stderr } = await cliWithEnv(
        { RLS_API_URL: p.apiUrl, RLS_API_TOKEN: 'a-wrong-token-5678' },
        'check',
        'AAPL',
      );
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toEqual([
        'cannot check AAPL: the API refused the token (401): set RLS_API_TOKEN to a read token',
      ]);
      const none = await cliWithEnv({ RLS_API_URL: p.apiUrl }, 'status');
      expect(none.stderr.trim()).toBe(
        'the API needs a token (401): set RLS_API_TOKEN (or RLS_API_TOKEN_FILE) to a read token',
      );
    });

    it('says an admin command needs an admin token', async () => {
      const { code, stderr } = await cliWithEnv(read, 'sync');
      expect(code).toBe(1);
      expect(stderr.trim()).toBe(
        "cannot start a sync: this needs an admin token (403): the token in RLS_API_TOKEN is not one of the API's admin tokens",
      );
      expect(stderr).not.toContain(p.tokens.read);
    });
  });

  describe('a run held by the removal guard', () => {
    it('sync --wait exits 4 when the run is held, and reject discards it', async () => {
      p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: EMPTIED_PAGE });
      const held = await cliWithEnv(admin, 'sync', '--wait', '--json');
      expect(held.code).toBe(4);
      const run = JSON.parse(held.stdout);
      expect(run).toMatchObject({
        status: 'awaiting_approval',
        held_reason: expect.stringContaining('would remove every instrument'),
      });

      const status = await cliWithEnv(read, 'status');
      expect(status.stdout).toContain(`run           ${run.workflow_id} (awaiting approval)\n`);
      expect(status.stdout).toContain(`approve: npm run -s cli -- approve ${run.workflow_id}\n`);

      const refused = await cliWithEnv(read, 'reject', run.workflow_id);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`cannot reject ${run.workflow_id}: this needs an admin token (403)`);

      const rejected = await cliWithEnv(admin, 'reject', run.workflow_id);
      expect(rejected.code).toBe(0);
      expect(rejected.stdout.trim()).toBe(
        `rejected ${run.workflow_id} (as ops-alice): nothing is applied and the list stays as it was`,
      );
      await p.client.workflow
        .getHandle(run.workflow_id, run.run_id)
        .result()
        .catch(() => undefined);
      expect(await p.activeTickers()).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);

      const again = await cliWithEnv(admin, 'reject', run.workflow_id, '--json');
      expect(again.code).toBe(1);
      expect(JSON.parse(again.stdout).error.code).toBe('not_awaiting_approval');
      expect(again.stderr.trim()).toBe(
        `cannot reject ${run.workflow_id}: run ${run.workflow_id} is failed, not awaiting approval (409 not_awaiting_approval)`,
      );
    });

    it('approve applies the held run', async () => {
      p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: EMPTIED_PAGE });
      const handle = await p.startSync();
      await waitFor('the run to be held', async () =>
        (await p.get('/v1/sync/status')).body.status === 'awaiting_approval' ? true : undefined,
      );
      const approved = await cliWithEnv(admin, 'approve', handle.workflowId, '--json');
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.stdout)).toEqual({
        workflow_id: handle.workflowId,
        run_id: handle.firstExecutionRunId,
        decision: 'approved',
        by: 'ops-alice',
      });
      expect(await handle.result()).toMatchObject({ removed: 4 });
      expect(await p.activeTickers()).toEqual([]);
      expect((await cliWithEnv(admin, 'approve', 'no-such-run')).stderr.trim()).toBe(
        'cannot approve no-such-run: no sync run has workflow id no-such-run (404 run_not_found)',
      );
    });
  });

  it('says in one line that the API cannot be reached, and where to set it', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, stdout, stderr } = await cliWithEnv(
      { RLS_API_URL: url, RLS_API_TOKEN: p.tokens.read },
      'check',
      'AAPL',
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      `cannot check AAPL: cannot reach the API at ${url}: connection refused; set RLS_API_URL`,
    ]);
    expect(stderr).not.toContain(p.tokens.read);
  });

  it('checks its arguments before calling anyone', async () => {
    expect((await cliWithEnv(read, 'check')).code).toBe(64);
    expect((await cliWithEnv(read, 'check', 'AAPL', '--side', 'hold')).stderr).toMatch(
      /^--side must be buy or sell, not "hold"\n\nusage: /,
    );
    expect((await cliWithEnv(read, 'approve')).code).toBe(64);
    expect((await cliWithEnv(read, 'sync', '--timeout', '5')).code).toBe(64);
    expect((await cliWithEnv(read, 'status', '--verbose')).code).toBe(64);
  });
});
