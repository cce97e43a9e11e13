import type { CheckItem } from '../domain/index.ts';
import { utcDay } from './check.ts';
import { candidateIndices, type CheckIndex, type ListSnapshot } from './check-index.ts';
import type { CheckAnswer } from './schemas.ts';

/** One check's answer as GET /v1/check writes it: exactly `JSON.stringify` of the answer, as UTF-8. */
export interface CheckBytes {
  body: Buffer;
  restricted: boolean;
}

/** What every answer from one snapshot shares, for a fresh list and for a stale one. */
interface Frame {
  snapshot: ListSnapshot;
  listVersion: number;
  asOf: string;
  /** After this instant (epoch ms) the list is stale. */
  staleAfter: number;
  /** `],"as_of":…,"stale":…,"list_version":…}`: the end of a restricted answer. */
  tail: readonly [fresh: Buffer, stale: Buffer];
  notRestricted: readonly [fresh: CheckBytes, stale: CheckBytes];
}

const RESTRICTED_HEAD = Buffer.from('{"restricted":true,"severity":"CRITICAL","matches":[');
const COMMA = Buffer.from(',');
const RESULTS_HEAD = Buffer.from('{"results":[');
const RESULTS_TAIL = Buffer.from(']}');

/**
 * The answers checks get now, from the check index's current snapshot: as answer objects (batches,
 * the generic route) and as the bytes GET /v1/check sends (its fast path). What does not change from
 * one check to the next is made once: per snapshot, the end of every answer (`as_of`, `stale`,
 * `list_version`) for a fresh and for a stale list, and the whole "not restricted" answer; per UTC
 * day, the day restriction dates are judged on; each instrument's match is JSON in the snapshot
 * already. `stale` is still decided at each check, by the clock.
 */
export function createCheckAnswers(deps: {
  checkIndex: CheckIndex;
  staleAfterMinutes: number;
  clock?: () => Date;
}) {
  const { checkIndex } = deps;
  const staleAfterMs = deps.staleAfterMinutes * 60_000;
  const nowMs = deps.clock ? () => deps.clock!().getTime() : Date.now;

  let frame: Frame | null = null;
  let framed: ListSnapshot | null = null;
  /** The frame of the current snapshot; null before the first successful sync. */
  function currentFrame(): Frame | null {
    const snapshot = checkIndex.snapshot();
    if (snapshot !== framed) {
      framed = snapshot;
      frame = snapshot === null ? null : frameOf(snapshot);
    }
    return frame;
  }
  function frameOf(snapshot: ListSnapshot): Frame | null {
    if (snapshot.listVersion === null || snapshot.asOf === null) return null;
    const asOf = snapshot.asOf.toISOString();
    const tailOf = (stale: boolean) =>
      `],"as_of":${JSON.stringify(asOf)},"stale":${stale},"list_version":${JSON.stringify(snapshot.listVersion)}}`;
    const tail = [Buffer.from(tailOf(false)), Buffer.from(tailOf(true))] as const;
    const notRestrictedOf = (end: Buffer): CheckBytes =>
      Object.freeze({
        body: Buffer.concat([Buffer.from('{"restricted":false,"severity":"NONE","matches":['), end]),
        restricted: false,
      });
    return {
      snapshot,
      listVersion: snapshot.listVersion,
      asOf,
      staleAfter: snapshot.asOf.getTime() + staleAfterMs,
      tail,
      notRestricted: [notRestrictedOf(tail[0]), notRestrictedOf(tail[1])],
    };
  }

  // The UTC day of the last check, and the instants it starts and ends at.
  let day = '';
  let dayStart = 0;
  let dayEnd = 0;
  function dayOf(ms: number): string {
    if (ms < dayStart || ms >= dayEnd) {
      dayStart = ms - (((ms % 86_400_000) + 86_400_000) % 86_400_000);
      dayEnd = dayStart + 86_400_000;
      day = utcDay(new Date(dayStart));
    }
    return day;
  }

  const matchesOf = (frame: Frame, item: CheckItem, today: string) =>
    candidateIndices(frame.snapshot, item).filter((i) => frame.snapshot.restricts(i, item.side, today));

  /**
   * Adds the parts of a restricted answer to `parts`, when `item` is restricted (the
   * not-restricted answer is one precomputed part); whether it is.
   */
  function addRestricted(parts: Buffer[], f: Frame, item: CheckItem, stale: 0 | 1, today: string): boolean {
    let restricted = false;
    for (const i of candidateIndices(f.snapshot, item)) {
      if (!f.snapshot.restricts(i, item.side, today)) continue;
      parts.push(restricted ? COMMA : RESTRICTED_HEAD, f.snapshot.matchBytes(i));
      restricted = true;
    }
    if (restricted) parts.push(f.tail[stale]);
    return restricted;
  }

  return {
    /** One check now, as GET /v1/check sends it; null when no sync has ever succeeded. */
    bytes(item: CheckItem): CheckBytes | null {
      const f = currentFrame();
      if (f === null) return null;
      const now = nowMs();
      const stale = now > f.staleAfter ? 1 : 0;
      const parts: Buffer[] = [];
      if (!addRestricted(parts, f, item, stale, dayOf(now))) return f.notRestricted[stale];
      return { body: Buffer.concat(parts), restricted: true };
    },

    /**
     * Checks now, as POST /v1/check sends them (`{"results":[…]}`, exactly JSON.stringify of the
     * batch's answer), and whether each is restricted; null when no sync has ever succeeded.
     */
    batchBytes(items: readonly CheckItem[]): { body: Buffer; restricted: boolean[] } | null {
      const f = currentFrame();
      if (f === null) return null;
      const now = nowMs();
      const stale = now > f.staleAfter ? 1 : 0;
      const today = dayOf(now);
      const parts: Buffer[] = [RESULTS_HEAD];
      const restricted = items.map((item, n) => {
        if (n > 0) parts.push(COMMA);
        if (addRestricted(parts, f, item, stale, today)) return true;
        parts.push(f.notRestricted[stale].body);
        return false;
      });
      parts.push(RESULTS_TAIL);
      return { body: Buffer.concat(parts), restricted };
    },

    /** Checks now, one answer per item, in order; null when no sync has ever succeeded. */
    answers(items: readonly CheckItem[]): CheckAnswer[] | null {
      const f = currentFrame();
      if (f === null) return null;
      const now = nowMs();
      const stale = now > f.staleAfter;
      const today = dayOf(now);
      return items.map((item) => {
        const matches = matchesOf(f, item, today).map((i) => f.snapshot.match(i));
        const restricted = matches.length > 0;
        return {
          restricted,
          severity: restricted ? 'CRITICAL' : 'NONE',
          matches,
          as_of: f.asOf,
          stale,
          list_version: f.listVersion,
        };
      });
    },
  };
}
