/**
 * The edit watch's decision, pure: do the pages Confluence has now differ from the pages the last
 * successful sync stored? (contract, "Edit to enforcement").
 */

/** What a probe saw: each list page's current version (named and CQL-matched), and named pages gone. */
export interface ProbedPages {
  versions: ReadonlyMap<string, number>;
  /** Pages named in RESTRICTED_INSTRUMENTS_PAGE_URL that Confluence no longer shows. */
  missing: readonly string[];
}

export interface ListChange {
  /** In words, for the sync's summary: "page 163841 is at v8 (the list has v7)". */
  words: string;
  /** The probed state, so the same state never starts a second sync. */
  key: string;
}

const MAX_NAMED = 3;

/** The probed state as a stable key. */
export function probeKey(probe: ProbedPages): string {
  return [
    ...[...probe.versions].map(([id, version]) => `${id}:v${version}`),
    ...probe.missing.map((id) => `${id}:gone`),
  ]
    .sort()
    .join(',');
}

/**
 * The change a sync must pick up, or null when the stored list is Confluence's current one.
 * `stored` is null before the first successful sync: then any readable state is a change.
 */
export function detectChange(
  probe: ProbedPages,
  stored: ReadonlyMap<string, number> | null,
): ListChange | null {
  const changes: string[] = [];
  if (stored === null) changes.push('no list has been synced yet');
  for (const id of probe.missing) changes.push(`page ${id} is gone or no longer visible`);
  for (const [id, version] of probe.versions) {
    const had = stored?.get(id);
    if (stored === null || had === version) continue;
    changes.push(
      had === undefined
        ? `page ${id} v${version} is new to the list`
        : `page ${id} is at v${version} (the list has v${had})`,
    );
  }
  for (const id of stored?.keys() ?? []) {
    if (!probe.versions.has(id) && !probe.missing.includes(id))
      changes.push(`page ${id} no longer matches the CQL`);
  }
  if (changes.length === 0) return null;
  const shown = changes.slice(0, MAX_NAMED).join('; ');
  const more = changes.length > MAX_NAMED ? ` and ${changes.length - MAX_NAMED} more` : '';
  return { words: `${shown}${more}`, key: probeKey(probe) };
}

/**
 * What the watch knows, carried in its heartbeats: a retried attempt (another worker, after this
 * one died) resumes from it, and the API reads it (describe) for the status's `watch`.
 */
export interface WatchState {
  everySeconds: number;
  lastProbeAt: string | null;
  /** When the watch last saw Confluence differ from the stored list in a way it had not seen before. */
  lastChangeSeenAt: string | null;
  /** The probed state of that change. */
  seenFor: string | null;
  /** The probed state the watch last started a sync for: the same state never starts another. */
  triggeredFor: string | null;
  failuresInRow: number;
  lastError: string | null;
  /** A 429's Retry-After: no probe before this instant. */
  quietUntil: string | null;
}
