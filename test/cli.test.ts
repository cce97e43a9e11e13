import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args]);
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
