/**
 * Realistic list pages (test/fixtures/pages/NN-name.xhtml) against their expected outcome
 * (NN-name.expected.json), which was written from the contract, not from the parser's output.
 * Each page is parsed with its file name as page id. Expected warnings name code, page, table,
 * row, column and raw value; their `problem` only has to be said.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRestrictedList } from '../../src/parser/index.ts';
import type { ParsedInstrument, ParseWarning } from '../../src/parser/index.ts';
import type { PageChecksum } from '../../src/domain/index.ts';

const PAGES = fileURLToPath(new URL('../fixtures/pages/', import.meta.url));

type ExpectedWarning = Omit<ParseWarning, 'problem'>;
type Expected =
  | { instruments: ParsedInstrument[]; warnings: ExpectedWarning[]; checksum?: PageChecksum }
  | { error: { code: 'parse_error'; message_contains: string }; warnings: ExpectedWarning[] };

const names = readdirSync(PAGES)
  .filter((file) => file.endsWith('.xhtml'))
  .map((file) => file.slice(0, -'.xhtml'.length))
  .sort();

function withAnyProblem(warnings: readonly ExpectedWarning[]): ParseWarning[] {
  return warnings.map((warning) => ({
    ...warning,
    problem: expect.stringMatching(/\S/) as unknown as string,
  }));
}

describe('fixture pages', () => {
  it('has at least 15 pages, each with its expected outcome', () => {
    expect(names.length).toBeGreaterThanOrEqual(15);
    for (const name of names) expect(readdirSync(PAGES), name).toContain(`${name}.expected.json`);
  });

  it.each(names)('%s', (name) => {
    const storage = readFileSync(`${PAGES}${name}.xhtml`, 'utf8');
    const expected = JSON.parse(readFileSync(`${PAGES}${name}.expected.json`, 'utf8')) as Expected;
    const result = parseRestrictedList({ pageId: name, storage });
    if ('error' in expected) {
      expect(result).toEqual({
        ok: false,
        error: {
          code: expected.error.code,
          message: expect.stringContaining(expected.error.message_contains),
        },
        warnings: withAnyProblem(expected.warnings),
      });
    } else {
      expect(result).toEqual({
        ok: true,
        instruments: expected.instruments,
        warnings: withAnyProblem(expected.warnings),
        ...(expected.checksum ? { checksum: expected.checksum } : {}),
      });
    }
  });
});
