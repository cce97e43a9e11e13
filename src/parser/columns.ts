/** Rule 1 and rule 3: which field a column holds, and which columns make a table a change log. */
import { normaliseColumnName } from './normalise.ts';

export const FIELDS = [
  'ticker',
  'isin',
  'name',
  'reason',
  'restriction_type',
  'effective_from',
  'expires_at',
] as const;
export type Field = (typeof FIELDS)[number];

const COLUMN_SYNONYMS: Readonly<Record<Field, readonly string[]>> = {
  ticker: ['ticker', 'ticker symbol', 'symbol', 'bloomberg ticker', 'bbg ticker', 'bloomberg code', 'ric'],
  isin: ['isin', 'isin code', 'isin number'],
  name: ['name', 'security', 'security name', 'instrument', 'instrument name', 'issuer', 'company'],
  reason: ['reason', 'reason for restriction', 'comment', 'comments', 'notes', 'rationale', 'description'],
  restriction_type: [
    'restriction',
    'restriction type',
    'type',
    'side',
    'restricted side',
    'trading restriction',
  ],
  effective_from: [
    'date added',
    'added',
    'effective',
    'effective date',
    'effective from',
    'from',
    'start date',
  ],
  expires_at: ['expiry', 'expiry date', 'expires', 'until', 'end date', 'restricted until'],
};

const FIELD_BY_SYNONYM: ReadonlyMap<string, Field> = new Map(
  FIELDS.flatMap((field) => COLUMN_SYNONYMS[field].map((synonym) => [synonym, field] as const)),
);

/** The field a header names, matched exactly after normalisation (never by substring), or `null`. */
export function fieldForColumn(headerText: string): Field | null {
  return FIELD_BY_SYNONYM.get(normaliseColumnName(headerText)) ?? null;
}

/** Whether a header names a column that identifies an instrument (what makes a list table). */
export function isIdentifierColumn(headerText: string): boolean {
  const field = fieldForColumn(headerText);
  return field === 'ticker' || field === 'isin';
}

const CHANGE_LOG_COLUMNS = new Set([
  'action',
  'change',
  'change type',
  'event',
  'changed by',
  'modified by',
  'version',
]);

/** Rule 1: a header naming one of these columns belongs to a change log, never the list itself. */
export function isChangeLogColumn(headerText: string): boolean {
  return CHANGE_LOG_COLUMNS.has(normaliseColumnName(headerText));
}
