/**
 * Rule 11: an instrument listed more than once — within a page or across pages — becomes one
 * entry with the most restrictive terms; and the output order of the contract's "Output".
 */
import { earliestDate, latestDate, mostRestrictive } from './normalise.ts';
import type { ParsedInstrument, ParseWarning } from './types.ts';
import { describeOrigin, warning, type SourcedInstrument } from './warnings.ts';

export interface MergedList {
  instruments: ParsedInstrument[];
  warnings: ParseWarning[];
}

const REASON_SEPARATOR = '; ';

/** The most restrictive combination of several listings of one instrument (rule 11); `members` in page order. */
function combinedTerms(members: readonly ParsedInstrument[]): Omit<ParsedInstrument, 'ticker' | 'isin'> {
  // Reasons are split before de-duplicating so that merging an already merged list again changes nothing.
  const reasons = new Set(members.flatMap((instrument) => instrument.reason?.split(REASON_SEPARATOR) ?? []));
  reasons.delete('');
  return {
    name: members.find((instrument) => instrument.name !== null)?.name ?? null,
    restriction_type: members.map((instrument) => instrument.restriction_type).reduce(mostRestrictive),
    reason: reasons.size > 0 ? [...reasons].join(REASON_SEPARATOR) : null,
    effective_from: earliestDate(members.map((instrument) => instrument.effective_from)),
    expires_at: latestDate(members.map((instrument) => instrument.expires_at)),
  };
}

function identify(instrument: ParsedInstrument): string {
  return [instrument.ticker, instrument.isin].filter((part) => part !== null).join(' / ');
}

/** Output order: by ticker, entries without a ticker last, then by ISIN. */
export function compareInstruments(a: ParsedInstrument, b: ParsedInstrument): number {
  return compareNullsLast(a.ticker, b.ticker) || compareNullsLast(a.isin, b.isin);
}

function compareNullsLast(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * Two entries are the same instrument when their ISINs are equal, or their tickers are equal and
 * at least one has no ISIN. Same ticker with two ISINs stays two instruments; an entry without
 * ISIN joins every instrument listed with its ticker, so it restricts all of them.
 *
 * The output has one ticker per entry. When one ISIN is listed under several tickers, the entry
 * takes the first; each other ticker that no entry carries is kept as an entry of its own
 * (without ISIN, same terms), so a check by that ticker is still restricted.
 */
export function mergeSourced(entries: readonly SourcedInstrument[]): MergedList {
  // Entries are referred to by their index, which is also their page order.
  const byIsin = new Map<string, number[]>();
  const withoutIsin = new Map<string, number[]>();
  const instruments: ParsedInstrument[] = [];
  entries.forEach(({ instrument }, index) => {
    if (instrument.isin !== null) pushTo(byIsin, instrument.isin, index);
    else if (instrument.ticker !== null) pushTo(withoutIsin, instrument.ticker, index);
    else instruments.push(instrument);
  });

  const instrumentAt = (index: number): ParsedInstrument => (entries[index] as SourcedInstrument).instrument;
  const tickersOf = (members: readonly number[]): string[] => {
    const tickers: string[] = [];
    for (const index of members) {
      const ticker = instrumentAt(index).ticker;
      if (ticker !== null && !tickers.includes(ticker)) tickers.push(ticker);
    }
    return tickers;
  };
  const warnings: ParseWarning[] = [];
  const duplicateWarnings = (members: readonly number[], merged: ParsedInstrument): void => {
    if (members.length < 2) return;
    const [first, ...others] = members;
    if (first === undefined) return;
    for (const index of others) {
      const entry = entries[index] as SourcedInstrument;
      warnings.push(
        warning(
          entry.origin,
          null,
          'duplicate_instrument',
          `${identify(merged)} is listed more than once (also at ${describeOrigin((entries[first] as SourcedInstrument).origin)}); merged into one entry with the most restrictive type, the earliest effective date, the latest expiry and every reason`,
          identify(entry.instrument),
        ),
      );
    }
  };
  const merge = (members: number[], ticker: string | null, isin: string | null): ParsedInstrument => {
    members.sort((a, b) => a - b);
    const only = members.length === 1 ? instrumentAt(members[0] as number) : null;
    // Most instruments are listed once: keep that entry as it is.
    if (
      only !== null &&
      only.ticker === ticker &&
      only.isin === isin &&
      !only.reason?.includes(REASON_SEPARATOR)
    )
      return only;
    return { ticker, isin, ...combinedTerms(members.map(instrumentAt)) };
  };

  // Only an ISIN listed under several tickers can leave a ticker that no entry carries, so only
  // those ISINs are recorded by ticker (a list of 50,000 ISINs would otherwise fill two more maps).
  const isinsByTicker = new Map<string, string[]>();
  /** The ticker each ISIN's entry carries; only looked up when some ticker might be carried by none. */
  const entryTickers: string[] = [];
  const groupMembers = new Map<string, number[]>();
  for (const [isin, listed] of byIsin) {
    const once = listed.length === 1 ? instrumentAt(listed[0] as number) : null;
    if (once !== null && (once.ticker === null || !withoutIsin.has(once.ticker))) {
      // Listed once, and no entry without ISIN shares its ticker: what most entries are.
      if (once.ticker !== null) entryTickers.push(once.ticker);
      instruments.push(merge(listed, once.ticker, isin));
      continue;
    }
    const tickers = tickersOf(listed);
    if (tickers[0] !== undefined) entryTickers.push(tickers[0]);
    // `listed` is in page order already, which `merge` keeps.
    let members = listed;
    for (const ticker of tickers) {
      const alsoListed = withoutIsin.get(ticker);
      if (alsoListed === undefined) continue;
      if (members === listed) members = [...listed];
      members.push(...alsoListed);
    }
    if (tickers.length > 1) {
      for (const ticker of tickers) pushTo(isinsByTicker, ticker, isin);
      groupMembers.set(isin, members);
    }
    const merged = merge(members, tickers[0] ?? null, isin);
    instruments.push(merged);
    duplicateWarnings(members, merged);
  }

  // Tickers not yet carried by an entry: those listed without ISIN, and an ISIN's second tickers.
  const carried = withoutIsin.size > 0 || isinsByTicker.size > 0 ? new Set(entryTickers) : null;
  for (const ticker of new Set([...withoutIsin.keys(), ...isinsByTicker.keys()])) {
    if (carried?.has(ticker) === true) continue;
    const sharing = isinsByTicker.get(ticker) ?? [];
    const members = [
      ...new Set([
        ...(withoutIsin.get(ticker) ?? []),
        ...sharing.flatMap((isin) => groupMembers.get(isin) ?? []),
      ]),
    ];
    const merged = merge(members, ticker, null);
    instruments.push(merged);
    if (sharing.length === 0) {
      duplicateWarnings(members, merged);
      continue;
    }
    for (const isin of sharing) {
      const listedIndex = (byIsin.get(isin) ?? []).find((index) => instrumentAt(index).ticker === ticker);
      const listing = listedIndex === undefined ? undefined : (entries[listedIndex] as SourcedInstrument);
      if (listing === undefined) continue;
      const tickers = tickersOf(byIsin.get(isin) ?? []);
      warnings.push(
        warning(
          listing.origin,
          null,
          'ticker_sharing_isin',
          `ISIN ${isin} is listed under tickers ${tickers.join(', ')}; the entry for the ISIN carries ${tickers[0] ?? ''}, and ${ticker} is kept as an entry of its own without ISIN so that a check by either ticker is restricted`,
          identify(listing.instrument),
        ),
      );
    }
  }

  sortInstruments(instruments);
  return { instruments, warnings };
}

/**
 * Sorts by `compareInstruments`. Sorting is most of the merge of a large list, so the entries
 * are first put in buckets by their ticker's first two characters, which order them exactly as
 * `compareInstruments` does, and each bucket is sorted on its own: far fewer comparisons, each
 * within a small set. Stable, like `Array.prototype.sort`.
 */
function sortInstruments(instruments: ParsedInstrument[]): void {
  const buckets = new Map<number, ParsedInstrument[]>();
  for (const instrument of instruments) pushTo(buckets, tickerBucket(instrument.ticker), instrument);
  let next = 0;
  for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
    for (const instrument of (buckets.get(bucket) as ParsedInstrument[]).sort(compareInstruments))
      instruments[next++] = instrument;
  }
}

/** A number ordering tickers as `<` does by their first two UTF-16 code units; no ticker last. */
function tickerBucket(ticker: string | null): number {
  if (ticker === null) return Number.POSITIVE_INFINITY;
  // A missing character (0) orders before any other (1 and up): `A` before `AA`.
  const first = ticker.length > 0 ? ticker.charCodeAt(0) + 1 : 0;
  const second = ticker.length > 1 ? ticker.charCodeAt(1) + 1 : 0;
  return first * 65537 + second;
}
