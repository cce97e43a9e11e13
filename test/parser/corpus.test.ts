/**
 * The parser on real Confluence storage-format bodies from public repositories (see SOURCES.md
 * in the corpus folder). None of them is a restricted list, so each must be a parse error — but
 * read the way Confluence shows it, which the inspection of their tables checks.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectTables, parseRestrictedList } from '../../src/parser/index.ts';
import { APPLE, instrument, listTable } from './helpers.ts';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/confluence-storage/', import.meta.url));
const files = existsSync(CORPUS)
  ? readdirSync(CORPUS)
      .filter((name) => name.endsWith('.xhtml'))
      .sort()
  : [];
const read = (name: string): string => readFileSync(CORPUS + name, 'utf8');

/** Tables per document, as SOURCES.md lists them ("detected features"). */
const TABLE_COUNTS: Readonly<Record<string, number>> = {
  '01-mark-editor-export.xhtml': 2,
  '02-mark-escaping-export.xhtml': 1,
  '03-mark-table-widths.xhtml': 3,
  '04-mark-table-in-info-macro.xhtml': 1,
  '05-md2conf-tables.xhtml': 7,
  '06-md2conf-table-in-div.xhtml': 1,
  '07-confluence-cli-thead-table.xhtml': 1,
  '08-c2n-table-in-layout.xhtml': 1,
  '09-c2n-simple-table-with-comment.xhtml': 1,
  '10-jsonix-compact-naming.xhtml': 19,
  '11-jsonix-properties.xhtml': 1,
  '12-jsonix-types.xhtml': 1,
  '13-excel-two-nested-tables.xhtml': 3,
  '14-excel-table-in-macro-umlaut.xhtml': 1,
  '15-excel-headerless-table-pagelinks.xhtml': 1,
};

describe.skipIf(files.length === 0)('corpus of real storage-format pages', () => {
  it('holds the 25 documents SOURCES.md describes', () => {
    expect(files).toHaveLength(25);
  });

  describe.each(files)('%s', (name) => {
    const storage = read(name);
    const tables = TABLE_COUNTS[name] ?? 0;

    it('is a parse error (no list table), never an exception', () => {
      const result = parseRestrictedList({ pageId: name, storage });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe('parse_error');
      expect(result.error.message).toContain(
        tables === 0 ? 'it has no table' : `none of its ${tables} table(s)`,
      );
      expect(result.warnings).toEqual([]);
    });

    it(`has ${tables} table(s), found wherever they sit`, () => {
      expect(inspectTables(storage)).toHaveLength(tables);
    });

    it('does not disturb a list table added to it', () => {
      const list = listTable(
        ['Ticker', 'ISIN', 'Reason'],
        [
          ['AAPL', APPLE, 'Deal'],
          ['', 'XS0000000000', ''],
        ],
      );
      const result = parseRestrictedList({ pageId: name, storage: storage + list });
      expect(result).toEqual({
        ok: true,
        instruments: [instrument({ ticker: 'AAPL', isin: APPLE, reason: 'Deal' })],
        warnings: [
          expect.objectContaining({ code: 'invalid_isin', page: name, table: tables + 1, row: 3 }),
          expect.objectContaining({ code: 'row_without_identifier', page: name, table: tables + 1, row: 3 }),
        ],
      });
    });
  });

  // Documents whose every table is checked, cell by cell.
  for (const { behaviour, name, tables } of [
    {
      behaviour: '01: a user mention in a cell reads as nothing; a colspan row is one cell',
      name: '01-mark-editor-export.xhtml',
      tables: [
        {
          table: 1,
          inHtmlMacro: false,
          rows: [
            ['Platform', 'Owner'],
            ['linux | amd64', ''],
          ],
        },
        { table: 2, inHtmlMacro: false, rows: [['Merged'], ['a', 'b']] },
      ],
    },
    {
      behaviour: '02: header cells keep their pipes; code and noformat bodies are not tables',
      name: '02-mark-escaping-export.xhtml',
      tables: [
        {
          table: 1,
          inHtmlMacro: false,
          rows: [
            ['a | b', 'c|d'],
            ['1', '2'],
          ],
        },
      ],
    },
  ]) {
    it(behaviour, () => {
      expect(inspectTables(read(name))).toEqual(tables);
    });
  }

  it('05: cells wrapped in <p>, a <br/> inside a cell, accented text composed', () => {
    const tables = inspectTables(read('05-md2conf-tables.xhtml'));
    expect(tables[2]?.rows).toEqual([
      ['Name', 'Description'],
      ['Data', 'A multi-line paragraph.'],
    ]);
    expect(tables[4]?.rows[2]).toEqual(['2', 'two', 'kettő']);
    expect(tables[6]?.rows).toEqual([
      ['', 'Value'],
      ['Icon', 'Example'],
    ]);
  });

  it('07: a cell holding only &nbsp; is empty; <br/> separates the lines', () => {
    expect(inspectTables(read('07-confluence-cli-thead-table.xhtml'))[0]?.rows).toEqual([
      ['Name', 'Status', 'Note'],
      ['alpha', 'done', 'see link'],
      ['beta', 'pending', ''],
      ['gamma', 'blocked', 'line one line two'],
    ]);
  });

  it('11: cells holding only an emoticon are empty', () => {
    const [table] = inspectTables(read('11-jsonix-properties.xhtml'));
    expect(table?.rows).toEqual([
      ['Processing type', 'allowTypedObject', 'allowDom'],
      ['lax', '', ''],
      ['strict', '', ''],
      ['skip', '', ''],
    ]);
  });

  it('13: nested tables are read on their own, not as the outer cell text', () => {
    // The outer table comes first: tables are numbered where they start.
    expect(inspectTables(read('13-excel-two-nested-tables.xhtml')).map((table) => table.rows)).toEqual([
      [
        ['header 1', 'header 2'],
        ['', ''],
      ],
      [
        ['header 1', 'header 2'],
        ['cell 1', 'cell 2'],
      ],
      [
        ['header 1', 'header 2'],
        ['cell 1', 'cell 2'],
      ],
    ]);
  });

  it('14: an HTML entity XML does not define (&Uuml;) is decoded', () => {
    expect(inspectTables(read('14-excel-table-in-macro-umlaut.xhtml'))[0]?.rows).toEqual([
      ['Übersicht header 1', 'header 2'],
      ['Übersicht cell 1', 'cell 2'],
    ]);
  });

  it('15: a page link reads as its body, or without a body as the page title', () => {
    expect(inspectTables(read('15-excel-headerless-table-pagelinks.xhtml'))[0]?.rows).toEqual([
      ['MyLinkTitle'],
      ['ThisIsAPageTitle'],
    ]);
  });

  describe('real tables made into list tables by naming a column Ticker', () => {
    it('04: a <thead> table inside an info macro', () => {
      const storage = read('04-mark-table-in-info-macro.xhtml').replace('Header 2', 'Ticker');
      expect(parseRestrictedList({ pageId: '04', storage })).toMatchObject({
        ok: true,
        instruments: [{ ticker: 'CELL B' }],
      });
    });

    it('08: a table in a layout cell', () => {
      const storage = read('08-c2n-table-in-layout.xhtml').replace('Owner', 'Ticker');
      const result = parseRestrictedList({ pageId: '08', storage });
      expect(result.ok && result.instruments.map((found) => found.ticker)).toEqual(['INFRA', 'PAYMENTS']);
    });

    it('14: a table inside a third-party macro body', () => {
      const storage = read('14-excel-table-in-macro-umlaut.xhtml').replace('header 2', 'Symbol');
      expect(parseRestrictedList({ pageId: '14', storage })).toMatchObject({
        ok: true,
        instruments: [{ ticker: 'CELL 2' }],
        warnings: [],
      });
    });

    it('13: nested tables are list tables of their own', () => {
      const storage = read('13-excel-two-nested-tables.xhtml').replaceAll('header 2', 'Ticker');
      const result = parseRestrictedList({ pageId: '13', storage });
      expect(result.ok && result.instruments.map((found) => found.ticker)).toEqual(['CELL 2']);
      expect(result.warnings.map((found) => [found.code, found.table, found.row])).toEqual([
        ['duplicate_instrument', 3, 2],
      ]);
    });
  });
});
