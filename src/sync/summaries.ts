/**
 * What a run and each of its steps say in the Temporal UI (user metadata: the run's static
 * summary and details, each activity's and timer's summary), built from what the workflow knows at
 * that point. Pure and deterministic: the workflow sandbox imports it.
 */
import type { DiffCounts, PageVersionRef, SyncRun, SyncTrigger } from '../domain/index.ts';

/**
 * The server refuses a summary payload over 400 bytes (dynamic config
 * limit.userMetadataSummarySize); the payload adds its encoding metadata and JSON quotes, so
 * summaries are cut well below that, on a character boundary.
 */
export const MAX_SUMMARY_BYTES = 300;
/** limit.userMetadataDetailsSize is 20,000 bytes; details stay far below it. */
export const MAX_DETAILS_BYTES = 8_000;

const encoder = new TextEncoder();

/** `text` within `maxBytes` of UTF-8, cut at a character and marked with an ellipsis. */
export function clip(text: string, maxBytes = MAX_SUMMARY_BYTES): string {
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = '';
  let bytes = encoder.encode('…').length;
  for (const char of text) {
    const size = encoder.encode(char).length;
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return `${out}…`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** How the run was started, for its summary and the change log. */
export interface RunOrigin {
  trigger: SyncTrigger;
  /** The admin token's name for a manual run. */
  requestedBy?: string | null;
  /** For a run the watch started: what it saw change. */
  change?: string | null;
}

/** The list as it stands when a run begins (the last successful sync's pages and list version). */
export interface ListBaseline {
  listVersion: number | null;
  activeCount: number;
  pages: readonly PageVersionRef[];
}

/** The list a run starts from: the last successful run's, or none yet. */
export function baselineOf(lastSuccess: SyncRun | undefined | null): ListBaseline {
  return {
    listVersion: lastSuccess?.list_version ?? null,
    activeCount: lastSuccess?.instrument_count ?? 0,
    pages: lastSuccess?.pages ?? [],
  };
}

export function describeOrigin(origin: RunOrigin): string {
  switch (origin.trigger) {
    case 'schedule':
      return 'the schedule';
    case 'manual':
      return origin.requestedBy ? `${origin.requestedBy} (manual)` : 'an operator (manual)';
    case 'watch':
      return `the edit watch${origin.change ? ` (${origin.change})` : ''}`;
  }
}

/** The run's static summary, e.g. "Sync requested by ops-alice". */
export function runSummary(origin: RunOrigin, intervalMinutes?: number): string {
  switch (origin.trigger) {
    case 'schedule':
      return clip(
        `Scheduled sync of the restricted list${intervalMinutes ? ` (every ${intervalMinutes} min)` : ''}`,
      );
    case 'manual':
      return clip(`Sync requested by ${origin.requestedBy ?? 'an operator'}`);
    case 'watch':
      return clip(`Sync started by the edit watch${origin.change ? `: ${origin.change}` : ''}`);
  }
}

function pageLine(page: {
  id: string;
  title?: string | null;
  version?: number | null;
  url?: string | null;
}): string {
  const title = page.title ? ` "${page.title}"` : '';
  const version = page.version === undefined || page.version === null ? '' : ` v${page.version}`;
  return `- page ${page.id}${title}${version}${page.url ? ` ${page.url}` : ''}`;
}

/**
 * The run's static details: who started it, which pages, the list version it starts from. The
 * Temporal UI renders details as Markdown.
 */
export function runDetails(options: {
  origin: RunOrigin;
  /** The pages as configured (ids, titles known from the last sync where there was one). */
  pages: readonly { id: string; title?: string | null; version?: number | null; url?: string | null }[];
  cql: string | null;
  /** Null when unknown ahead of the run (a scheduled run's details are fixed when the schedule is). */
  baseline: ListBaseline | null;
}): string {
  const lines = [`**Started by** ${describeOrigin(options.origin)}.`, '', '**List pages**', ''];
  lines.push(...(options.pages.length > 0 ? options.pages.map(pageLine) : ['- (none named)']));
  if (options.cql !== null) lines.push(`- every page matching CQL \`${options.cql}\``);
  lines.push('');
  if (options.baseline === null) lines.push('**Starts from** the list version applied when the run begins.');
  else if (options.baseline.listVersion === null)
    lines.push('**Starts from** no list: no sync has succeeded yet.');
  else
    lines.push(
      `**Starts from** list v${options.baseline.listVersion} (${plural(options.baseline.activeCount, 'active instrument')}).`,
    );
  return clip(lines.join('\n'), MAX_DETAILS_BYTES);
}

export const WATCH_SUMMARY = 'Watch the list pages for edits; start a sync at once when one changes';

export const START_SUMMARY = 'Record the run (skipped if another sync is in progress)';

/** "Fetch page 163841 (stored v7)": the pages the last successful sync stored, or none yet. */
export function fetchSummary(stored: readonly PageVersionRef[]): string {
  if (stored.length === 0) return 'Fetch the list page(s) (none stored yet: every body is downloaded)';
  const pages = stored.map((page) => `${page.id} (stored v${page.version})`).join(', ');
  return clip(`Fetch ${stored.length === 1 ? 'page' : 'pages'} ${pages}`);
}

/** "Parse 2 pages (163841 v8, 163842 v3)". */
export function parseSummary(pages: readonly PageVersionRef[]): string {
  return clip(
    `Parse ${plural(pages.length, 'page')} (${pages.map((p) => `${p.id} v${p.version}`).join(', ')})`,
  );
}

/** "Compare 412 instruments with list v17"; a run with parse warnings says so: "(3 parse warnings)". */
export function compareSummary(
  instrumentCount: number,
  listVersion: number | null,
  warningCount = 0,
): string {
  const warnings = warningCount === 0 ? '' : ` (${plural(warningCount, 'parse warning')})`;
  return clip(
    `Compare ${plural(instrumentCount, 'instrument')}${warnings} with ${listVersion === null ? 'the empty cache (no list yet)' : `list v${listVersion}`}`,
  );
}

/** "Apply +1 −0 ~2 → list v18", or that nothing changes. */
export function applySummary(
  counts: DiffCounts,
  listVersion: number | null,
  approvedBy: string | null,
): string {
  const changed = counts.added + counts.removed + counts.modified > 0;
  const approval = approvedBy === null ? '' : ` (approved by ${approvedBy})`;
  if (!changed && listVersion !== null)
    return clip(`Apply nothing new: list v${listVersion} stays (${counts.unchanged} unchanged)${approval}`);
  const next = listVersion === null ? 1 : listVersion + 1;
  return clip(`Apply +${counts.added} −${counts.removed} ~${counts.modified} → list v${next}${approval}`);
}

export function holdSummary(reason: string): string {
  return clip(`Mark the run held for an operator: ${reason}`);
}

/** "Wait up to 24 h for an operator's decision: the sync would remove 12 of 40 (30 %)". */
export function waitSummary(timeoutMs: number, reason: string): string {
  return clip(`Wait up to ${formatDuration(timeoutMs)} for an operator's decision: ${reason}`);
}

export function failureSummary(code: string, message: string): string {
  return clip(`Record the failure: ${code}: ${message}`);
}

/** 86,400,000 → "24 h"; 90,000 → "1.5 min"; 2,000 → "2 s". */
export function formatDuration(ms: number): string {
  const round = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  if (ms >= 3_600_000) return `${round(ms / 3_600_000)} h`;
  if (ms >= 60_000) return `${round(ms / 60_000)} min`;
  return `${round(ms / 1000)} s`;
}
