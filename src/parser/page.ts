/**
 * One page: every table read (rule 1), tables numbered in the order they appear, list tables'
 * instruments merged (rule 11), no list table an error (rule 12).
 */
import type { Element } from 'domhandler';
import { mergeSourced } from './merge.ts';
import type { CheerioAPI } from 'cheerio/slim';
import type { PageChecksum } from '../domain/index.ts';
import { readChecksums, type ChecksumReading } from './checksum.ts';
import { elementChildren, findTables, isStruckThrough, loadStorage } from './storage.ts';
import { readCell, TableReader, type Cell, type RowInput, type TableReading } from './table.ts';
import type { PageSource, ParseResult, ParseWarning } from './types.ts';
import { warning, type SourcedInstrument } from './warnings.ts';

const RAW_PREVIEW_LENGTH = 200;
const ROW_GROUPS = new Set(['thead', 'tbody', 'tfoot']);

/** A table of the page, already read. */
interface FoundTable {
  element: Element;
  /** Written as raw HTML inside an html macro: reported, never read (rule 2). */
  inHtmlMacro: boolean;
  /** The table's reading, once its number on the page is known. */
  result: (table: number) => TableReading;
}

function pageLabel(page: PageSource): string {
  return page.title ? `"${page.title}" (${page.pageId})` : String(page.pageId);
}

/** A row group's or the row's own strike-through makes the whole row deleted text (rule 4). */
function isRowStruck(row: Element, table: Element): boolean {
  for (let node: Element | null = row; node !== null; node = node.parent as Element | null) {
    if (isStruckThrough(node)) return true;
    if (node === table) return false;
  }
  return false;
}

/** A table's rows as cell texts, for a table that is not read but reported or inspected. */
function rowTexts(table: Element): string[][] {
  const rows: string[][] = [];
  const visit = (parent: Element): void => {
    for (const child of elementChildren(parent)) {
      if (child.name === 'tr') {
        const cells = elementChildren(child).filter((cell) => cell.name === 'td' || cell.name === 'th');
        rows.push(cells.map((cell) => readCell(cell, false).text));
      } else if (ROW_GROUPS.has(child.name)) visit(child);
    }
  };
  visit(table);
  return rows;
}

/** The first rows of a table that is not read, `a | b / c | d`, to name it in a warning. */
function tablePreview(table: Element): string | null {
  const preview = rowTexts(table)
    .filter((cells) => cells.some((text) => text !== ''))
    .map((cells) => cells.join(' | '))
    .join(' / ');
  return preview === '' ? null : preview.slice(0, RAW_PREVIEW_LENGTH);
}

function htmlMacroTable(page: string, table: Element): (number: number) => TableReading {
  const preview = tablePreview(table);
  return (number) => ({
    isListTable: false,
    instruments: [],
    warnings: [
      warning(
        { page, table: number, row: null },
        null,
        'html_macro_table',
        'table inside an html macro is not read; if it lists restricted instruments, move it out of the html macro',
        preview,
      ),
    ],
  });
}

type RowObserver = (table: Element, row: RowInput) => void;

/** Rule 1: every table of the page in page order, each already read; and the page's DOM. */
function scanTables(
  storage: string,
  pageId: string,
  observeRow?: RowObserver,
): { $: CheerioAPI; tables: FoundTable[] } {
  const readers = new Map<Element, TableReader>();
  const readRow = (table: Element, element: Element): void => {
    const struck = isRowStruck(element, table);
    const cells: Cell[] = [];
    for (const child of element.children)
      if (child.type === 'tag' && (child.name === 'td' || child.name === 'th'))
        cells.push(readCell(child, struck));
    const parent = element.parent as Element | null;
    const group = parent !== null && ROW_GROUPS.has(parent.name) ? parent : table;
    const row: RowInput = { cells, inThead: group.name === 'thead', group };
    observeRow?.(table, row);
    let reader = readers.get(table);
    if (reader === undefined) {
      reader = new TableReader(pageId);
      readers.set(table, reader);
    }
    reader.addRow(row);
  };
  const $ = loadStorage(storage);
  const tables = findTables($, readRow).map(({ element, inHtmlMacro }): FoundTable => {
    if (inHtmlMacro) return { element, inHtmlMacro, result: htmlMacroTable(pageId, element) };
    const reader = readers.get(element) ?? new TableReader(pageId);
    return { element, inHtmlMacro, result: (number: number) => reader.finish(number) };
  });
  return { $, tables };
}

/**
 * The page's checksum against what it yields: none, one count (holding or not), or a parse
 * error for two different counts, which would leave the reader not knowing which to trust.
 */
function pageChecksum(
  reading: ChecksumReading,
  found: number,
  pageId: string,
  warnings: ParseWarning[],
): { checksum?: PageChecksum; error?: string } {
  for (const { text, where } of reading.unreadable) {
    warnings.push(
      warning(
        { page: pageId, table: null, row: null },
        null,
        'checksum_unreadable',
        `the instrument count in ${where} is not a whole number, so the page's checksum is not checked; write it as "Instrument count: 42"`,
        text,
      ),
    );
  }
  const values = [...new Set(reading.claims.map((claim) => claim.value))];
  if (values.length === 0) return {};
  if (values.length > 1) {
    const stated = values
      .map((value) => {
        const claim = reading.claims.find((c) => c.value === value)!;
        return `${value} ("${claim.text}", in ${claim.where})`;
      })
      .join(' and ');
    return { error: `it states two different instrument counts, ${stated}; keep one` };
  }
  const claim = reading.claims[0]!;
  return {
    checksum: {
      expected: claim.value,
      found,
      holds: claim.value === found,
      text: claim.text,
      where: claim.where,
    },
  };
}

export function readPage(page: PageSource): ParseResult {
  const pageId = String(page.pageId);
  const { $, tables } = scanTables(page.storage, pageId);
  const warnings: ParseWarning[] = [];
  const entries: SourcedInstrument[] = [];
  const listTables = new Set<Element>();
  tables.forEach((found, index) => {
    const reading = found.result(index + 1);
    warnings.push(...reading.warnings);
    if (reading.isListTable) {
      listTables.add(found.element);
      for (const entry of reading.instruments) entries.push(entry);
    }
  });

  if (listTables.size === 0) {
    const looked =
      tables.length === 0
        ? 'it has no table'
        : `none of its ${tables.length} table(s) has a usable header row naming a Ticker or ISIN column`;
    const seeWarnings = warnings.length > 0 ? ` (see the ${warnings.length} warning(s))` : '';
    return {
      ok: false,
      error: {
        code: 'parse_error',
        message: `No restricted-list table on page ${pageLabel(page)}: ${looked}${seeWarnings}.`,
      },
      warnings,
    };
  }
  const merged = mergeSourced(entries);
  const numbers = new Map(tables.map((found, index) => [found.element, index + 1]));
  const { checksum, error } = pageChecksum(
    readChecksums($, listTables, (table) => numbers.get(table) ?? null),
    merged.instruments.length,
    pageId,
    warnings,
  );
  if (error !== undefined) {
    return {
      ok: false,
      error: { code: 'parse_error', message: `The page ${pageLabel(page)} cannot be checked: ${error}.` },
      warnings: [...warnings, ...merged.warnings],
    };
  }
  return {
    ok: true,
    instruments: merged.instruments,
    warnings: [...warnings, ...merged.warnings],
    ...(checksum ? { checksum } : {}),
  };
}

export interface InspectedTable {
  /** 1-based, as in warnings. */
  table: number;
  inHtmlMacro: boolean;
  /** Each row's own cells' text (rule 4), as the parser reads them. */
  rows: string[][];
}

/** Every table of a page with its cells' text, read as the parser reads them: for diagnosis and tests. */
export function inspectTables(storage: string): InspectedTable[] {
  const rowsByTable = new Map<Element, string[][]>();
  const { tables } = scanTables(storage, 'inspect', (table, row) => {
    const rows = rowsByTable.get(table) ?? [];
    rowsByTable.set(table, rows);
    rows.push(row.cells.map((cell) => cell.text));
  });
  return tables.map((found, index) => ({
    table: index + 1,
    inHtmlMacro: found.inHtmlMacro,
    rows: found.inHtmlMacro ? rowTexts(found.element) : (rowsByTable.get(found.element) ?? []),
  }));
}
