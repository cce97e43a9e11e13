/**
 * Reading one table (rules 1, 2, 5–10), a row at a time: each row is laid out on the table's
 * grid (colspan/rowspan), the header row is found among the first rows, and every data row
 * becomes instruments as soon as it is read — so a 50,000-row table is never held in memory.
 */
import type { Element } from 'domhandler';
import { FIELDS, fieldForColumn, isChangeLogColumn, isIdentifierColumn, type Field } from './columns.ts';
import {
  earliestDate,
  isMeaningfulTicker,
  isValidIsin,
  latestDate,
  mostRestrictive,
  normaliseColumnName,
  normaliseIsin,
  normaliseText,
  normaliseTicker,
  parseDate,
  restrictionTypeFor,
} from './normalise.ts';
import { cellLines, hasAttributes } from './storage.ts';
import type { ParsedInstrument, ParseWarning, RestrictionType } from './types.ts';
import type { SourcedInstrument, WarningCode } from './warnings.ts';

export interface Cell {
  isHeader: boolean;
  colspan: number;
  /** 0 means "to the end of the row group", as in HTML. */
  rowspan: number;
  lines: readonly string[];
  /** The lines joined by spaces: the cell's text where line breaks carry no meaning. */
  text: string;
}

/** A row as the table reader receives it. */
export interface RowInput {
  /** The row's own cells, in order (cells spanning down from above are not repeated here). */
  cells: Cell[];
  inThead: boolean;
  /** The thead/tbody/tfoot (or table) holding the row: where a `rowspan="0"` ends. */
  group: object;
}

// Wider than any real list; a bound so that a stray colspan="100000" cannot exhaust memory.
const MAX_COLUMNS = 256;
const MAX_SPAN = 65534;
const HEADER_SEARCH_ROWS = 5;

function spanAttribute(element: Element, name: string, zeroAllowed: boolean): number {
  const written = element.attribs[name];
  if (written === undefined) return 1;
  const value = Number.parseInt(written, 10);
  if (Number.isNaN(value) || value < 0 || (value === 0 && !zeroAllowed)) return 1;
  return Math.min(value, MAX_SPAN);
}

const NO_LINES: readonly string[] = Object.freeze([]);

/** Rule 4 for one `<td>`/`<th>`; `struck` when the whole row is struck through. */
export function readCell(element: Element, struck: boolean): Cell {
  const lines = struck ? NO_LINES : cellLines(element, normaliseText);
  // Most cells have no attributes at all, so no spans to look up.
  const spanned = hasAttributes(element);
  return {
    isHeader: element.name === 'th',
    colspan: spanned ? spanAttribute(element, 'colspan', false) : 1,
    rowspan: spanned ? spanAttribute(element, 'rowspan', true) : 1,
    lines,
    text: lines.length === 1 ? (lines[0] as string) : lines.join(' '),
  };
}

/** A position of the grid and the cell covering it, which may start in an earlier row. */
interface Slot {
  cell: Cell;
  /** The row the cell starts in. */
  row: number;
}

/** A cell still covering positions of rows below the one it starts in. */
interface Carried extends Slot {
  /** First row index no longer covered; `null` for "to the end of `group`". */
  until: number | null;
  group: object;
}

interface LaidOutRow extends RowInput {
  index: number;
  slots: (Slot | undefined)[];
}

function rowText(row: RowInput): string {
  return row.cells
    .map((cell) => cell.text)
    .filter((text) => text !== '')
    .join(' | ');
}

function isEmptyRow(row: RowInput): boolean {
  return row.cells.every((cell) => cell.text === '');
}

function isHeaderCellRow(row: RowInput): boolean {
  return row.cells.length > 0 && row.cells.every((cell) => cell.isHeader);
}

function slotTexts(row: LaidOutRow): string[] {
  return Array.from(row.slots, (slot) => slot?.cell.text ?? '');
}

function namesIdentifierColumn(row: LaidOutRow): boolean {
  return row.slots.some((slot) => slot !== undefined && isIdentifierColumn(slot.cell.text));
}

/** A warning not yet placed in a table: the table's number is known only once the page is read. */
export interface TableWarning {
  /** 0-based row index within the table. */
  row: number | null;
  column: string | null;
  code: WarningCode;
  problem: string;
  raw: string | null;
}

export interface TableReading {
  isListTable: boolean;
  instruments: SourcedInstrument[];
  warnings: ParseWarning[];
}

type ColumnMap = Record<Field, number[]>;

interface Header {
  row: number;
  /** Header text per column, as written. */
  names: string[];
  normalisedNames: string[];
  columns: ColumnMap;
  /** The ticker columns, then the ISIN columns. */
  identifierColumns: number[];
}

/**
 * One table, fed row by row (`addRow`), then `finish`ed with the table's number on the page.
 * Until the header row is known (at most five rows in), rows are kept; after it, each row is
 * read on arrival and only its instruments are kept.
 */
export class TableReader {
  private readonly page: string;
  private rowCount = 0;
  private carried: (Carried | undefined)[] = [];
  /** Rows waiting for the header decision. */
  private pending: LaidOutRow[] = [];
  /** `undefined` while undecided; `null` when the table has no header (so is no list table). */
  private header: Header | null | undefined = undefined;
  private changeLogColumn: string | null = null;
  private firstNamingRow: LaidOutRow | null = null;
  private readonly isDataRow: boolean[] = [];
  private readonly warnings: TableWarning[] = [];
  /** Origins carry table 0 until `finish` knows the table's number. */
  private readonly instruments: SourcedInstrument[] = [];
  private readonly memos: Memos = { restrictionTypes: new Map(), dates: new Map() };

  constructor(page: string) {
    this.page = page;
  }

  addRow(input: RowInput): void {
    const row = this.layOut(input);
    if (this.header === undefined) {
      this.pending.push(row);
      if ((isHeaderCellRow(row) || row.inThead) && namesIdentifierColumn(row)) this.decideHeader(row);
      else if (this.pending.length >= HEADER_SEARCH_ROWS) this.decideHeader(this.fallbackHeaderRow());
    } else if (this.header !== null) {
      this.readRowBelowHeader(row, this.header);
    } else if (this.firstNamingRow === null && namesIdentifierColumn(row)) {
      this.firstNamingRow = row;
    }
  }

  finish(table: number): TableReading {
    if (this.header === undefined) this.decideHeader(this.fallbackHeaderRow());
    const unused = this.unusedTableWarning();
    if (unused !== null) this.warnings.push(unused);
    const warnings = this.warnings.map((found) => ({
      code: found.code,
      page: this.page,
      table,
      row: found.row === null ? null : found.row + 1,
      column: found.column,
      problem: found.problem,
      raw: found.raw,
    }));
    if (this.header === null || this.header === undefined || this.changeLogColumn !== null) {
      return { isListTable: false, instruments: [], warnings };
    }
    for (const entry of this.instruments) entry.origin.table = table;
    return { isListTable: true, instruments: this.instruments, warnings };
  }

  private warn(
    row: number | null,
    column: string | null,
    code: WarningCode,
    problem: string,
    raw: string | null,
  ): void {
    this.warnings.push({ row, column, code, problem, raw });
  }

  /** The HTML table model: a cell spanning rows or columns covers every position it spans. */
  private layOut(input: RowInput): LaidOutRow {
    const index = this.rowCount++;
    const slots: (Slot | undefined)[] = [];
    for (let column = 0; column < this.carried.length; column++) {
      const carried = this.carried[column];
      const covers =
        carried !== undefined &&
        (carried.until === null ? carried.group === input.group : index < carried.until);
      if (covers) slots[column] = carried;
      else this.carried[column] = undefined;
    }
    let column = 0;
    for (const cell of input.cells) {
      while (slots[column] !== undefined) column++;
      if (column >= MAX_COLUMNS) break;
      const end = Math.min(column + cell.colspan, MAX_COLUMNS);
      const slot: Slot = { cell, row: index };
      for (let c = column; c < end; c++) {
        if (slots[c] !== undefined) continue;
        slots[c] = slot;
        if (cell.rowspan !== 1) {
          this.carried[c] = {
            ...slot,
            until: cell.rowspan === 0 ? null : index + cell.rowspan,
            group: input.group,
          };
        }
      }
      column = end;
    }
    return { cells: input.cells, inThead: input.inThead, group: input.group, index, slots };
  }

  /** Rule 2's second choice: the first row, if it names a ticker or ISIN column. */
  private fallbackHeaderRow(): LaidOutRow | null {
    const first = this.pending[0];
    return first !== undefined && namesIdentifierColumn(first) ? first : null;
  }

  private decideHeader(headerRow: LaidOutRow | null): void {
    const pending = this.pending;
    this.pending = [];
    if (headerRow === null) {
      this.header = null;
      this.firstNamingRow = pending.find(namesIdentifierColumn) ?? null;
      return;
    }
    const names = slotTexts(headerRow);
    const columns = mapColumns(names);
    const header: Header = {
      row: headerRow.index,
      names,
      normalisedNames: names.map(normaliseColumnName),
      columns,
      identifierColumns: [...columns.ticker, ...columns.isin],
    };
    this.header = header;
    this.changeLogColumn = names.find(isChangeLogColumn) ?? null;
    if (this.changeLogColumn !== null) return;

    for (const row of pending) {
      if (row.index < header.row && !isEmptyRow(row) && !isHeaderCellRow(row)) {
        this.warn(
          row.index,
          null,
          'title_row_above_header',
          'row above the header row is ignored',
          rowText(row),
        );
      }
    }
    for (const field of FIELDS) {
      const columns = header.columns[field];
      if (columns.length < 2) continue;
      const columnNames = columns.map((c) => names[c] ?? '');
      this.warn(
        header.row,
        columnNames[1] ?? null,
        'duplicate_column',
        `${columns.length} columns hold the ${field}: ${columnNames.map((name) => `"${name}"`).join(', ')}; ${DUPLICATE_COLUMN_RULES[field]}`,
        columnNames.join(' | '),
      );
    }
    for (const row of pending) if (row.index > header.row) this.readRowBelowHeader(row, header);
  }

  /** Rule 2 below the header: repeated headers and section rows are skipped, the rest is data. */
  private readRowBelowHeader(row: LaidOutRow, header: Header): void {
    if (this.changeLogColumn !== null) return;
    const onlyCell = row.cells.length === 1 ? row.cells[0] : undefined;
    const skipped =
      isEmptyRow(row) || repeatsHeader(row, header) || (onlyCell !== undefined && onlyCell.colspan >= 2);
    this.isDataRow[row.index] = !skipped;
    if (skipped) return;
    if (isHeaderCellRow(row) && namesIdentifierColumn(row)) {
      this.warn(
        row.index,
        null,
        'header_like_data_row',
        'row of header cells below the header row is read as data',
        rowText(row),
      );
    }
    // A cell spanning down from an earlier data row gives its value here; one from the header
    // row, a title or a skipped row does not.
    const cellAt = (column: number): Cell | null => {
      const slot = row.slots[column];
      if (slot === undefined) return null;
      return slot.row === row.index || this.isDataRow[slot.row] === true ? slot.cell : null;
    };
    const reading = readDataRow(cellAt, header, this.memos);
    for (const problem of reading.problems)
      this.warn(row.index, problem.column, problem.code, problem.problem, problem.raw);
    for (const instrument of reading.instruments) {
      this.instruments.push({ instrument, origin: { page: this.page, table: 0, row: row.index + 1 } });
    }
  }

  /** Rule 1: a table not used although a row names a ticker or ISIN column is never dropped silently. */
  private unusedTableWarning(): TableWarning | null {
    if (this.header === null && this.firstNamingRow !== null) {
      return {
        row: this.firstNamingRow.index,
        column: null,
        code: 'header_not_used',
        problem:
          'row names a Ticker or ISIN column but is not the header (a header must be one of the first five rows and made of header cells, or the first row), so this table was not read',
        raw: rowText(this.firstNamingRow),
      };
    }
    if (this.header && this.changeLogColumn !== null) {
      return {
        row: this.header.row,
        column: this.changeLogColumn,
        code: 'change_log_table',
        problem: `table names a Ticker or ISIN column but also a "${this.changeLogColumn}" column, so it is read as a change log, not as the list`,
        raw: this.header.names.filter(Boolean).join(' | '),
      };
    }
    return null;
  }
}

const DUPLICATE_COLUMN_RULES: Readonly<Record<Field, string>> = {
  ticker: 'every ticker in any of them counts',
  isin: 'the first valid ISIN counts',
  name: 'the first non-empty name counts',
  reason: 'their reasons are joined',
  restriction_type: 'the most restrictive type counts',
  effective_from: 'the earliest date counts, none if one is empty',
  expires_at: 'the latest date counts, none if one is empty',
};

function mapColumns(names: readonly string[]): ColumnMap {
  const columns = Object.fromEntries(FIELDS.map((field) => [field, [] as number[]])) as ColumnMap;
  names.forEach((name, c) => {
    const field = fieldForColumn(name);
    if (field !== null) columns[field].push(c);
  });
  return columns;
}

/**
 * A row below the header repeats it when it repeats an identifier column and each of its
 * non-empty positions names the same column as the header does there.
 */
function repeatsHeader(row: LaidOutRow, header: Header): boolean {
  // Positions first: a data row fails at its first non-empty cell. Once every position names the
  // header's column, a non-empty identifier position names an identifier column.
  for (let c = 0; c < row.slots.length; c++) {
    const text = row.slots[c]?.cell.text ?? '';
    if (text !== '' && normaliseColumnName(text) !== header.normalisedNames[c]) return false;
  }
  return header.identifierColumns.some((c) => (row.slots[c]?.cell.text ?? '') !== '');
}

interface RowProblem {
  column: string | null;
  code: WarningCode;
  problem: string;
  raw: string | null;
}

interface DataRowReading {
  instruments: ParsedInstrument[];
  problems: RowProblem[];
}

interface FieldCell {
  cell: Cell;
  header: string;
}

const TICKER_SEPARATORS = /[,;]/;

/** The cells of a field's columns, each once (a cell spanning two columns of one field is read once). */
function fieldCells(field: Field, cellAt: (column: number) => Cell | null, header: Header): FieldCell[] {
  const found: FieldCell[] = [];
  for (const c of header.columns[field]) {
    const cell = cellAt(c);
    if (cell !== null && !includesCell(found, cell)) found.push({ cell, header: header.names[c] ?? '' });
  }
  return found;
}

function includesCell(found: readonly FieldCell[], cell: Cell): boolean {
  for (const entry of found) if (entry.cell === cell) return true;
  return false;
}

/** Rule 5: the tickers of one cell, split on `,` `;` and line breaks, normalised, without empty pieces. */
export function tickersInCell(lines: readonly string[]): string[] {
  const tickers: string[] = [];
  for (const line of lines) {
    const pieces = line.includes(',') || line.includes(';') ? line.split(TICKER_SEPARATORS) : [line];
    for (const piece of pieces) {
      const ticker = normaliseTicker(piece);
      if (isMeaningfulTicker(ticker) && !tickers.includes(ticker)) tickers.push(ticker);
    }
  }
  return tickers;
}

/**
 * A table's readings of restriction types and dates by cell text: a list repeats a few such
 * values thousands of times, so each is read once per table.
 */
interface Memos {
  restrictionTypes: Map<string, RestrictionType | null>;
  dates: Map<string, string | null>;
}

function memo<T>(memos: Map<string, T>, text: string, read: (text: string) => T): T {
  const known = memos.get(text);
  if (known !== undefined || memos.has(text)) return known as T;
  const value = read(text);
  memos.set(text, value);
  return value;
}

/** Rules 5–10 for one data row. */
function readDataRow(cellAt: (column: number) => Cell | null, header: Header, memos: Memos): DataRowReading {
  const problems: RowProblem[] = [];
  const problem = (column: string | null, code: WarningCode, text: string, raw: string | null): void => {
    problems.push({ column, code, problem: text, raw });
  };

  const tickers: string[] = [];
  let multiTickerCell: FieldCell | null = null;
  for (const entry of fieldCells('ticker', cellAt, header)) {
    const inCell = tickersInCell(entry.cell.lines);
    if (inCell.length > 1) multiTickerCell ??= entry;
    for (const ticker of inCell) if (!tickers.includes(ticker)) tickers.push(ticker);
  }

  let isin: string | null = null;
  for (const { cell, header: column } of fieldCells('isin', cellAt, header)) {
    const candidate = normaliseIsin(cell.text);
    if (!isMeaningfulTicker(candidate)) continue;
    if (!isValidIsin(candidate)) {
      problem(
        column,
        'invalid_isin',
        `not a valid ISIN (2 letters, 9 letters or digits, ISO 6166 check digit); ISIN ignored${tickers.length > 0 ? ', row kept for its ticker' : ''}`,
        cell.text,
      );
    } else if (isin === null) {
      isin = candidate;
    } else if (candidate !== isin) {
      problem(
        column,
        'conflicting_isin',
        `a second, different ISIN in the row; the first, ${isin}, counts`,
        cell.text,
      );
    }
  }

  if (tickers.length === 0 && isin === null) {
    const texts = FIELDS.flatMap((field) =>
      fieldCells(field, cellAt, header).map(({ cell }) => cell.text),
    ).filter(Boolean);
    problem(
      null,
      'row_without_identifier',
      'row has neither a ticker nor a valid ISIN; row skipped',
      texts.join(' | ') || null,
    );
    return { instruments: [], problems };
  }

  if (multiTickerCell !== null && isin !== null) {
    problem(
      multiTickerCell.header,
      'several_tickers_with_isin',
      `cell holds several tickers but the row has one ISIN (${isin}), which cannot belong to every ticker; ISIN dropped, one entry per ticker kept`,
      multiTickerCell.cell.text,
    );
    isin = null;
  }

  const name = fieldCells('name', cellAt, header).find(({ cell }) => cell.text !== '')?.cell.text ?? null;
  const reasons: string[] = [];
  for (const { cell } of fieldCells('reason', cellAt, header))
    if (cell.text !== '' && !reasons.includes(cell.text)) reasons.push(cell.text);

  // No type column, or an empty cell, restricts fully.
  let restriction: RestrictionType | null = null;
  for (const { cell, header: column } of fieldCells('restriction_type', cellAt, header)) {
    const type = memo(memos.restrictionTypes, cell.text, restrictionTypeFor);
    if (type === null) {
      problem(
        column,
        'unknown_restriction_type',
        'unknown restriction type; read as full (both sides restricted)',
        cell.text,
      );
    }
    restriction = restriction === null ? (type ?? 'full') : mostRestrictive(restriction, type ?? 'full');
  }

  const readDates = (field: 'effective_from' | 'expires_at'): (string | null)[] =>
    fieldCells(field, cellAt, header).map(({ cell, header: column }) => {
      if (cell.text === '') return null;
      const date = memo(memos.dates, cell.text, parseDate);
      if (date === null) {
        problem(
          column,
          'invalid_date',
          'not a date this parser reads (the date macro, 2026-03-01, 1 Mar 2026, 01-Mar-2026 or 1 March 2026); ignored, the restriction stays in force',
          cell.text,
        );
      }
      return date;
    });
  let effectiveFrom = earliestDate(readDates('effective_from'));
  let expiresAt = latestDate(readDates('expires_at'));
  if (effectiveFrom !== null && expiresAt !== null && expiresAt <= effectiveFrom) {
    problem(
      null,
      'expiry_not_after_effective',
      `expiry ${expiresAt} is not after the effective date ${effectiveFrom}, so the restriction would never be in force; both dates ignored, the restriction stays in force`,
      `${effectiveFrom} / ${expiresAt}`,
    );
    effectiveFrom = null;
    expiresAt = null;
  }

  const reason = reasons.length > 0 ? reasons.join('; ') : null;
  const entry = (ticker: string | null, isin: string | null): ParsedInstrument => ({
    ticker,
    isin,
    name,
    restriction_type: restriction ?? 'full',
    reason,
    effective_from: effectiveFrom,
    expires_at: expiresAt,
  });
  if (tickers.length === 0) return { instruments: [entry(null, isin)], problems };
  // Several ticker columns name one instrument: the ISIN stays with the first ticker, and the
  // others are entries of their own so that a check by any of them is restricted.
  return { instruments: tickers.map((ticker, index) => entry(ticker, index === 0 ? isin : null)), problems };
}
