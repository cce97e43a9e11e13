import { expect } from 'vitest';
import { parseRestrictedList } from '../../src/parser/index.ts';
import type { ParsedInstrument, ParseWarning, ParseWarningCode } from '../../src/parser/index.ts';

export { instrument } from '../helpers/instruments.ts';

/** A header cell as the Confluence editor writes it. */
export const th = (text: string): string => `<th><p><strong>${text}</strong></p></th>`;
/** A data cell as the Confluence editor writes it. */
export const td = (text: string): string => `<td><p>${text}</p></td>`;
export const tr = (...cells: string[]): string => `<tr>${cells.join('')}</tr>`;

/** A table with a `<th>` header row inside `<tbody>` (how Confluence stores it) and `<td>` rows. */
export function listTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table data-layout="default"><tbody>${tr(...header.map(th))}${rows.map((row) => tr(...row.map(td))).join('')}</tbody></table>`;
}

export interface Parsed {
  instruments: ParsedInstrument[];
  warnings: ParseWarning[];
}

/** The page id `parseOk` and `parseTable` give a page unless told otherwise. */
const PAGE_ID = 'page-1';

/** Parses a page that must have a list table. */
export function parseOk(storage: string, pageId = PAGE_ID): Parsed {
  const result = parseRestrictedList({ pageId, storage });
  if (!result.ok) expect.fail(`expected a list, got a parse error: ${result.error.message}`);
  return { instruments: result.instruments, warnings: result.warnings };
}

/** The instruments of a page holding one list table with these columns and rows. */
export function parseTable(header: readonly string[], rows: readonly (readonly string[])[]): Parsed {
  return parseOk(listTable(header, rows));
}

/** Matches a warning about table `table` of a page `parseOk` read, with at least these fields. */
export function warningIn(table: number, fields: Partial<ParseWarning>): ParseWarning {
  return expect.objectContaining({ page: PAGE_ID, table, ...fields });
}

export function codes(warnings: readonly ParseWarning[]): (ParseWarningCode | undefined)[] {
  return warnings.map((warning) => warning.code);
}

// Real ISINs with correct check digits.
export const APPLE = 'US0378331005';
export const MICROSOFT = 'US5949181045';
export const BAE = 'GB0002634946';
export const SAP = 'DE0007164600';
export const NESTLE = 'CH0038863350';
