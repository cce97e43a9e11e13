/**
 * One page: every table read (rule 1), tables numbered in the order they appear, list tables'
 * instruments merged (rule 11), no list table an error (rule 12).
 */
import type { Element } from 'domhandler';
import { mergeSourced } from './merge.ts';
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

/** Rule 1: every table of the page in page order, each already read. */
function scanTables(storage: string, pageId: string, observeRow?: RowObserver): FoundTable[] {
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
  return findTables(loadStorage(storage), readRow).map(({ element, inHtmlMacro }) => {
    if (inHtmlMacro) return { element, inHtmlMacro, result: htmlMacroTable(pageId, element) };
    const reader = readers.get(element) ?? new TableReader(pageId);
    return { element, inHtmlMacro, result: (number: number) => reader.finish(number) };
  });
}

export function readPage(page: PageSource): ParseResult {
  const pageId = String(page.pageId);
  const tables = scanTables(page.storage, pageId);
  const warnings: ParseWarning[] = [];
  const entries: SourcedInstrument[] = [];
  let listTables = 0;
  tables.forEach((found, index) => {
    const reading = found.result(index + 1);
    warnings.push(...reading.warnings);
    if (reading.isListTable) {
      listTables++;
      for (const entry of reading.instruments) entries.push(entry);
    }
  });

  if (listTables === 0) {
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
  return { ok: true, instruments: merged.instruments, warnings: [...warnings, ...merged.warnings] };
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
  const tables = scanTables(storage, 'inspect', (table, row) => {
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
