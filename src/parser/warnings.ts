import type { ParsedInstrument, ParseWarning, ParseWarningCode } from './types.ts';

export type WarningCode = ParseWarningCode;

/** Where an entry or a problem was found; `table` and `row` are 1-based, `null` when unknown. */
export interface Origin {
  page: string | null;
  table: number | null;
  row: number | null;
}

/** An instrument with the place it was read from, so merge warnings can name both places. */
export interface SourcedInstrument {
  instrument: ParsedInstrument;
  origin: Origin;
}

export function warning(
  origin: Origin,
  column: string | null,
  code: WarningCode,
  problem: string,
  raw: string | null,
): ParseWarning {
  return { code, page: origin.page, table: origin.table, row: origin.row, column, problem, raw };
}

export function describeOrigin(origin: Origin): string {
  const parts: string[] = [];
  if (origin.page !== null) parts.push(`page ${origin.page}`);
  if (origin.table !== null) parts.push(`table ${origin.table}`);
  if (origin.row !== null) parts.push(`row ${origin.row}`);
  return parts.length > 0 ? parts.join(' ') : 'another entry';
}
