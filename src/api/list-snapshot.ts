import { RESTRICTION_TYPES, type AppliedState, type Side, type StoredInstrument } from '../domain/index.ts';
import { inForceBetween, matchOf, restrictsSide } from './check.ts';
import type { CheckMatch } from './schemas.ts';

/**
 * One applied list state, immutable, in the shape the check path reads fastest and the garbage
 * collector does not have to look into: a handful of typed arrays rather than an object (and its
 * strings) per instrument. With 100,000 instruments as objects, every scavenge during a reload
 * copied megabytes of freshly built, still-live snapshot, pausing the event loop for tens of
 * milliseconds; here a reload leaves only short-lived garbage (the rows read) behind.
 *
 * Instrument `i` (in id order) has its restriction type in `types`, its dates (few distinct
 * strings, shared) in `from` / `until`, its match as JSON (exactly as JSON.stringify writes the
 * match) in a buffer of the page it was read in, and its ticker and ISIN as UTF-16 code units in one
 * array, found through
 * two open-addressing hash tables: compared code unit by code unit, so a lookup is exactly `===`.
 */
export class ListSnapshot implements AppliedState {
  readonly listVersion: number | null;
  readonly asOf: Date | null;
  readonly size: number;
  readonly loadedAt: Date;
  readonly #parts: SnapshotParts;

  constructor(state: AppliedState, parts: SnapshotParts, loadedAt: Date) {
    this.listVersion = state.listVersion;
    this.asOf = state.asOf;
    this.size = parts.count;
    this.loadedAt = loadedAt;
    this.#parts = parts;
  }

  /** The instruments with this ticker, in id order (indices). */
  byTicker(ticker: string): readonly number[] {
    return this.#find(this.#parts.tickerTable, this.#parts.tickerAt, ticker);
  }

  /** The instruments with this ISIN, in id order (indices). */
  byIsin(isin: string): readonly number[] {
    return this.#find(this.#parts.isinTable, this.#parts.isinAt, isin);
  }

  /** Whether instrument `i` restricts a check with `side` on `day` (`YYYY-MM-DD`). */
  restricts(i: number, side: Side | null, day: string): boolean {
    const parts = this.#parts;
    return (
      inForceBetween(parts.from[i]!, parts.until[i]!, day) &&
      restrictsSide(RESTRICTION_TYPES[parts.types[i]!]!, side)
    );
  }

  /** Instrument `i`'s match as JSON bytes (a view, not a copy). */
  matchBytes(i: number): Buffer {
    const { json, jsonAt } = this.#parts;
    return json[jsonAt[3 * i]!]!.subarray(jsonAt[3 * i + 1]!, jsonAt[3 * i + 2]!);
  }

  /** Instrument `i`'s match, as a new object. */
  match(i: number): CheckMatch {
    return JSON.parse(this.matchBytes(i).toString('utf8')) as CheckMatch;
  }

  #find(table: Int32Array, keyAt: Int32Array, key: string): readonly number[] {
    const { codes } = this.#parts;
    const mask = table.length - 1;
    let found: number[] | null = null;
    // Linear probing from the key's slot to the first empty one; entries are filed in id order.
    for (let slot = hashOf(key) & mask; ; slot = (slot + 1) & mask) {
      const filed = table[slot]!;
      if (filed === 0) return found ?? NONE;
      const i = filed - 1;
      const at = keyAt[2 * i]!;
      const length = keyAt[2 * i + 1]!;
      if (length !== key.length) continue;
      let same = true;
      for (let k = 0; k < length; k++) {
        if (codes[at + k] !== key.charCodeAt(k)) {
          same = false;
          break;
        }
      }
      if (same) (found ??= []).push(i);
    }
  }
}

const NONE: readonly number[] = Object.freeze([]);

/** A restriction type's code in the snapshot: its index in RESTRICTION_TYPES. */
const RESTRICTION_CODES = new Map(RESTRICTION_TYPES.map((type, code) => [type, code]));

/** FNV-1a over a key's UTF-16 code units. */
function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < key.length; k++) hash = Math.imul(hash ^ key.charCodeAt(k), 0x01000193);
  return hash >>> 0;
}

/** The same hash, of a key held as code units. */
function hashOfCodes(codes: Uint16Array, at: number, length: number): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < length; k++) hash = Math.imul(hash ^ codes[at + k]!, 0x01000193);
  return hash >>> 0;
}

interface SnapshotParts {
  count: number;
  types: Uint8Array;
  from: (string | null)[];
  until: (string | null)[];
  /** The matches' JSON, a buffer per page read; instrument i's is json[jsonAt[3i]] from jsonAt[3i + 1] to jsonAt[3i + 2]. */
  json: Buffer[];
  jsonAt: Int32Array;
  /** All tickers' and ISINs' code units; instrument i's ticker is codes[tickerAt[2i]] for tickerAt[2i + 1]. */
  codes: Uint16Array;
  tickerAt: Int32Array;
  isinAt: Int32Array;
  /** Open addressing, instrument index + 1 (0: empty). */
  tickerTable: Int32Array;
  isinTable: Int32Array;
}

/** `array` with room for `needed` elements: itself, or a copy twice as long. */
function grown<T extends Uint8Array | Uint16Array | Int32Array>(
  array: T,
  needed: number,
  make: (length: number) => T,
): T {
  if (needed <= array.length) return array;
  const bigger = make(Math.max(needed, array.length * 2));
  bigger.set(array);
  return bigger;
}

/** Instruments filed per table step before the builder gives the event loop back. */
const TABLE_STEP = 20_000;

/** Builds a snapshot from pages of rows; nothing of it is seen until `finish`. */
export function snapshotBuilder() {
  let count = 0;
  let types = new Uint8Array(1024);
  const from: (string | null)[] = [];
  const until: (string | null)[] = [];
  // A buffer per page, each its exact size: no buffer ever grows (and is copied) as the list does.
  const json: Buffer[] = [];
  let jsonAt = new Int32Array(3 * 1024);
  let codes = new Uint16Array(16 * 1024);
  let codesUsed = 0;
  let tickerAt = new Int32Array(2048);
  let isinAt = new Int32Array(2048);
  const strings = new Map<string | null, string | null>([[null, null]]);
  const shared = (value: string | null) => {
    const known = strings.get(value);
    if (known !== undefined) return known;
    strings.set(value, value);
    return value;
  };
  /** Appends a key's code units; its place and length, or -1 for none. */
  const keyOf = (key: string | null, at: Int32Array, i: number) => {
    if (key === null) {
      at[2 * i] = -1;
      at[2 * i + 1] = -1;
      return;
    }
    codes = grown(codes, codesUsed + key.length, (length) => new Uint16Array(length));
    for (let k = 0; k < key.length; k++) codes[codesUsed + k] = key.charCodeAt(k);
    at[2 * i] = codesUsed;
    at[2 * i + 1] = key.length;
    codesUsed += key.length;
  };

  return {
    add(rows: readonly StoredInstrument[]) {
      const first = count;
      types = grown(types, count + rows.length, (length) => new Uint8Array(length));
      jsonAt = grown(jsonAt, 3 * (count + rows.length), (length) => new Int32Array(length));
      tickerAt = grown(tickerAt, 2 * (count + rows.length), (length) => new Int32Array(length));
      isinAt = grown(isinAt, 2 * (count + rows.length), (length) => new Int32Array(length));
      const matches: string[] = [];
      let bytes = 0;
      for (const row of rows) {
        const i = count++;
        types[i] = RESTRICTION_CODES.get(row.restriction_type)!;
        from.push(shared(row.effective_from));
        until.push(shared(row.expires_at));
        keyOf(row.ticker, tickerAt, i);
        keyOf(row.isin, isinAt, i);
        const match = JSON.stringify(matchOf(row));
        matches.push(match);
        bytes += Buffer.byteLength(match);
      }
      const page = Buffer.allocUnsafe(bytes);
      let used = 0;
      for (const [n, match] of matches.entries()) {
        const i = first + n;
        jsonAt[3 * i] = json.length;
        jsonAt[3 * i + 1] = used;
        used += page.write(match, used, 'utf8');
        jsonAt[3 * i + 2] = used;
      }
      json.push(page);
    },

    /** The snapshot, its hash tables filed a step at a time, giving the event loop back between steps. */
    async finish(
      state: AppliedState,
      loadedAt: () => Date,
      pause: () => Promise<void>,
    ): Promise<ListSnapshot> {
      // At most half full: probe sequences stay short.
      let slots = 16;
      while (slots < 2 * count) slots *= 2;
      const tickerTable = new Int32Array(slots);
      const isinTable = new Int32Array(slots);
      const file = (table: Int32Array, keyAt: Int32Array, i: number) => {
        const at = keyAt[2 * i]!;
        if (at === -1) return;
        let slot = hashOfCodes(codes, at, keyAt[2 * i + 1]!) & (slots - 1);
        while (table[slot] !== 0) slot = (slot + 1) & (slots - 1);
        table[slot] = i + 1;
      };
      for (let start = 0; start < count; start += TABLE_STEP) {
        for (let i = start; i < Math.min(count, start + TABLE_STEP); i++) {
          file(tickerTable, tickerAt, i);
          file(isinTable, isinAt, i);
        }
        await pause();
      }
      return new ListSnapshot(
        state,
        {
          count,
          types: types.slice(0, count),
          from,
          until,
          json,
          jsonAt: jsonAt.slice(0, 3 * count),
          codes: codes.slice(0, codesUsed),
          tickerAt: tickerAt.slice(0, 2 * count),
          isinAt: isinAt.slice(0, 2 * count),
          tickerTable,
          isinTable,
        },
        loadedAt(),
      );
    },
  };
}
