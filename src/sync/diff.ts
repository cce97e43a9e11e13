import {
  COMPARED_FIELDS,
  instrumentFields,
  type DesiredInstrument,
  type DiffCounts,
  type InstrumentFields,
  type ParsedInstrument,
  type StoredInstrument,
} from '../domain/index.ts';

export interface InstrumentDiff {
  /** New instruments, or inactive rows coming back (`reactivateId`). */
  added: { after: DesiredInstrument; reactivateId: number | null; before: InstrumentFields | null }[];
  modified: { id: number; before: InstrumentFields; after: DesiredInstrument }[];
  removed: { id: number; before: InstrumentFields; sourcePageId: string | null }[];
  unchanged: number;
}

function sameFields(a: ParsedInstrument, b: ParsedInstrument): boolean {
  return COMPARED_FIELDS.every((field) => a[field] === b[field]);
}

/**
 * Finds the stored row that is the same instrument (contract rule 11: equal ISINs, or equal
 * tickers where at least one side has no ISIN), preferring an exact ISIN match.
 */
function findSame(
  desired: ParsedInstrument,
  rows: readonly StoredInstrument[],
  taken: Set<number>,
): StoredInstrument | undefined {
  const free = rows.filter((row) => !taken.has(row.id));
  if (desired.isin !== null) {
    const byIsin = free.find((row) => row.isin === desired.isin);
    if (byIsin) return byIsin;
  }
  if (desired.ticker === null) return undefined;
  return free.find((row) => row.ticker === desired.ticker && (row.isin === null || desired.isin === null));
}

function indexRows(rows: readonly StoredInstrument[]): (desired: ParsedInstrument) => StoredInstrument[] {
  const byKey = new Map<string, StoredInstrument[]>();
  const add = (key: string, row: StoredInstrument) => {
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  };
  for (const row of rows) {
    if (row.isin !== null) add(`i:${row.isin}`, row);
    if (row.ticker !== null) add(`t:${row.ticker}`, row);
  }
  return (desired) => [
    ...(desired.isin === null ? [] : (byKey.get(`i:${desired.isin}`) ?? [])),
    ...(desired.ticker === null ? [] : (byKey.get(`t:${desired.ticker}`) ?? [])),
  ];
}

/**
 * What must change in the cache so that its active rows are exactly `desired`.
 * Pure: `stored` holds every row, active or not, so a returning instrument reuses its row.
 */
export function diffInstruments(
  stored: readonly StoredInstrument[],
  desired: readonly DesiredInstrument[],
): InstrumentDiff {
  const active = stored.filter((row) => row.is_active);
  const inactive = stored.filter((row) => !row.is_active);
  const activeCandidates = indexRows(active);
  const inactiveCandidates = indexRows(inactive);
  const taken = new Set<number>();
  const diff: InstrumentDiff = { added: [], modified: [], removed: [], unchanged: 0 };

  // Two passes, so that an exact ISIN match is never stolen by a ticker-only match of another entry.
  const matched = new Map<DesiredInstrument, StoredInstrument>();
  for (const want of desired) {
    if (want.isin === null) continue;
    const row = activeCandidates(want).find((r) => r.isin === want.isin && !taken.has(r.id));
    if (row) {
      matched.set(want, row);
      taken.add(row.id);
    }
  }
  for (const want of desired) {
    if (matched.has(want)) continue;
    const row = findSame(want, activeCandidates(want), taken);
    if (row) {
      matched.set(want, row);
      taken.add(row.id);
    }
  }

  for (const want of desired) {
    const row = matched.get(want);
    if (row) {
      if (sameFields(row, want)) diff.unchanged += 1;
      else diff.modified.push({ id: row.id, before: instrumentFields(row), after: want });
      continue;
    }
    const previous = findSame(want, inactiveCandidates(want), taken);
    if (previous) taken.add(previous.id);
    diff.added.push({
      after: want,
      reactivateId: previous?.id ?? null,
      before: previous ? instrumentFields(previous) : null,
    });
  }

  for (const row of active) {
    if (!taken.has(row.id))
      diff.removed.push({ id: row.id, before: instrumentFields(row), sourcePageId: row.source_page_id });
  }
  return diff;
}

export function countDiff(diff: InstrumentDiff): DiffCounts {
  return {
    added: diff.added.length,
    removed: diff.removed.length,
    modified: diff.modified.length,
    unchanged: diff.unchanged,
  };
}

/** "+2 −1 ~1 =38", as shown in the Temporal UI and the logs. */
export function describeDiffCounts(counts: DiffCounts): string {
  return `+${counts.added} −${counts.removed} ~${counts.modified} =${counts.unchanged}`;
}
