import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeConfluence, type FakeConfluence } from '../src/dev/fake-confluence.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWithEnv({}, ...args);
}

async function cliWithEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } });
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
  });

  it('prints the instruments, sorted, with contract fields and warnings, as JSON', async () => {
    const { code, stdout } = await cli('parse', join(dir, 'list.xhtml'), '--json');
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.instruments).toEqual([
      { ticker: 'AAPL US', isin: null, name: null, restriction_type: 'full', reason: 'MNPI', effective_from: null, expires_at: null },
      { ticker: 'MSFT', isin: 'US5949181045', name: null, restriction_type: 'buy_only', reason: 'Mandate', effective_from: null, expires_at: null },
    ]);
    // The invalid ISIN (bad check digit) is dropped with a warning; the row stays by its ticker.
    expect(body.warnings).toEqual([expect.objectContaining({ table: 1, row: 3, column: 'ISIN', raw: 'US0378331006' })]);
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

describe('cli preview', () => {
  let fake: FakeConfluence;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await startFakeConfluence();
    fake.putPage({
      id: '600001',
      title: 'Restricted Instruments',
      storage: '<table><tbody><tr><th>Ticker</th><th>Type</th></tr><tr><td>TSLA</td><td>Sell only</td></tr><tr><td>IBM</td><td>Perhaps</td></tr></tbody></table>',
    });
    env = {
      CONFLUENCE_URL: fake.url,
      CONFLUENCE_USERNAME: fake.username,
      CONFLUENCE_API_TOKEN: fake.apiToken,
      RESTRICTED_INSTRUMENTS_PAGE_URL: fake.tinyLink('600001'),
    };
  });
  afterAll(() => fake.close());

  it('resolves, fetches and parses the configured page without writing anything', async () => {
    const { code, stdout } = await cliWithEnv(env, 'preview', '--json');
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.pages).toEqual([{ id: '600001', title: 'Restricted Instruments', version: 1, url: fake.pageUrl('600001') }]);
    expect(body.instruments.map((i: { ticker: string; restriction_type: string }) => [i.ticker, i.restriction_type])).toEqual([
      ['IBM', 'full'], // an unknown type restricts fully, with a warning
      ['TSLA', 'sell_only'],
    ]);
    expect(body.warnings).toEqual([expect.objectContaining({ row: 3, raw: 'Perhaps' })]);
  });

  it('says in one line what failed and what to do, never showing the token', async () => {
    const { code, stdout, stderr } = await cliWithEnv({ ...env, CONFLUENCE_API_TOKEN: 'a-wrong-token-1234' }, 'preview', '--json');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      `get versions of pages 600001: Confluence rejected the credentials for user ${fake.username} (401): check CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN, and that the user can read the page`,
    ]);
    expect(stderr).not.toContain('a-wrong-token-1234');
  });

  it('names the variable of a configuration error', async () => {
    const { code, stderr } = await cliWithEnv({ ...env, RESTRICTED_INSTRUMENTS_PAGE_URL: 'the list' }, 'preview');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^configuration error: RESTRICTED_INSTRUMENTS_PAGE_URL: /);
  });
});
