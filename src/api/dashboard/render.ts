import type { Principal } from '../auth.ts';
import { isInForce } from '../check.ts';
import type {
  CheckMatch,
  ListAnswer,
  ListChange,
  ListedInstrument,
  RunAnswer,
  RunReading,
  StatusAnswer,
} from '../schemas.ts';
import { html, safeHref, type Html } from './html.ts';

export interface Flash {
  kind: 'info' | 'error';
  text: string;
}

export interface Viewer {
  principal: Principal | null;
  /** How the viewer got in: a dashboard session (has a CSRF token and a sign-out), a bearer header, or open access. */
  via: 'session' | 'bearer' | 'open';
  csrf: string | null;
}

export interface DashboardModel {
  now: Date;
  viewer: Viewer;
  adminConfigured: boolean;
  flash: Flash | null;
  status: StatusAnswer;
  /** Null before the first successful sync: no list is loaded. */
  list: ListAnswer | null;
  query: string;
  /** How many rows of the list are shown at most (the search narrows it). */
  maxRows: number;
  runs: RunAnswer[];
  /** The latest run with its parse warnings and page checksums (null without runs). */
  latest: RunReading | null;
  changes: ListChange[];
  staleAfterMinutes: number;
}

const RESTRICTION_LABELS: Record<ListedInstrument['restriction_type'], string> = {
  full: 'Full: no buying or selling',
  buy_only: 'Buy only: buying restricted, selling allowed',
  sell_only: 'Sell only: selling restricted, buying allowed',
};

const RUN_STATUS_LABELS: Record<string, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  running: 'running',
  awaiting_approval: 'awaiting approval',
};

/** `2026-11-21 10:00:03 UTC`, in a `<time>` element carrying the exact instant. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  const [date, time] = iso.replace(/\.\d+Z$|Z$/, '').split('T');
  // Date and time each stay on one line; a narrow column breaks between them.
  return html`<time datetime="${iso}"
    ><span class="nowrap">${date}</span> <span class="nowrap">${time ?? ''} UTC</span></time
  >`;
}

function ago(iso: string | null, now: Date): string {
  if (iso === null) return '';
  const minutes = Math.round((now.getTime() - new Date(iso).getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
}

const dash = (value: string | number | null | undefined) =>
  value === null || value === undefined || value === '' ? html`<span class="muted">—</span>` : html`${value}`;

function csrfField(viewer: Viewer): Html {
  return viewer.csrf === null ? html`` : html`<input type="hidden" name="csrf" value="${viewer.csrf}" />`;
}

const isAdmin = (viewer: Viewer) => viewer.principal?.role === 'admin';

/** The shared frame: header with who is signed in, the body, no script anywhere. */
export function layout(title: string, viewer: Viewer | null, body: Html): string {
  const who =
    viewer === null
      ? html``
      : viewer.principal === null
        ? html`<span>Open access (no API tokens configured)</span>`
        : html`<span
              >Signed in as
              <strong>${viewer.principal.name}</strong>
              (${viewer.principal.role === 'admin' ? 'admin' : 'read only'})${viewer.via === 'bearer' ? ' with a bearer token' : ''}</span
            >
            ${viewer.via === 'session' ? html`<form method="post" action="/sign-out">${csrfField(viewer)}<button type="submit">Sign out</button></form>` : html``}`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <link rel="stylesheet" href="/dashboard.css" />
      </head>
      <body>
        <header class="top">
          <h1><a href="/" class="home">Restricted instruments list</a></h1>
          <div class="who">${who}</div>
        </header>
        <main>${body}</main>
      </body>
    </html> `.__html;
}

function flashBox(flash: Flash | null): Html {
  return flash === null ? html`` : html`<div class="flash ${flash.kind}" role="status">${flash.text}</div>`;
}

function decisionForms(run: RunAnswer | undefined, viewer: Viewer, adminConfigured: boolean): Html {
  if (run === undefined) return html``;
  if (!isAdmin(viewer)) {
    return html`<p>
      An admin must approve or reject this
      run${adminConfigured ? ' (sign in with an admin token)' : ' (no admin token is configured: set API_ADMIN_TOKENS)'}.
    </p>`;
  }
  const base = `/dashboard/runs/${encodeURIComponent(run.workflow_id)}`;
  return html`<div class="actions">
    <form method="post" action="${base}/approve" class="inline">
      ${csrfField(viewer)}<button type="submit" class="approve">Approve: apply these changes</button>
    </form>
    <form method="post" action="${base}/reject" class="inline">
      ${csrfField(viewer)}<button type="submit" class="reject">Reject: keep the current list</button>
    </form>
  </div>`;
}

/** The banners a compliance officer must not miss: failure, staleness, a held run, no list at all. */
function banners(model: DashboardModel): Html {
  const { status, now } = model;
  const current = status.current_run;
  const cachedFrom =
    status.last_success_at === null
      ? 'no list has been loaded yet'
      : html`checks keep using cached data from ${when(status.last_success_at)}`;
  const out: Html[] = [];
  switch (status.status) {
    case 'failed':
      out.push(
        html`<div class="banner failed" role="alert">
          <strong class="title">${status.message}</strong>
          ${status.last_error ? html`<p>Last error: ${status.last_error.code ? html`<code>${status.last_error.code}</code>: ` : ''}${status.last_error.message ?? 'unknown'}</p>` : ''}
          <p>
            The cached list is unchanged and checks keep answering from it. The next scheduled sync will try
            again${isAdmin(model.viewer) ? ', or use “Sync now” below' : ''}.
          </p>
        </div>`,
      );
      break;
    case 'awaiting_approval':
      out.push(
        html`<div class="banner held" role="alert">
          <strong class="title">Sync awaiting approval: nothing has been applied</strong>
          <p>
            Held by the removal guard:
            ${current?.held_reason ?? 'the sync would remove a large part of the list'}.
          </p>
          <p>
            Until someone decides, ${cachedFrom}. Approving applies the removals; rejecting keeps the list as
            it is.
          </p>
          ${decisionForms(current, model.viewer, model.adminConfigured)}
        </div>`,
      );
      break;
    case 'running':
      if (status.last_error !== null) {
        const error = status.last_error;
        // A step failed and Temporal retries it: not a failure yet, but an operator should know now.
        out.push(
          html`<div class="banner retrying" role="alert">
            <strong class="title">${status.message}</strong>
            <p>
              Last error:
              ${error.code ? html`<code>${error.code}</code>: ` : ''}${error.message ?? 'unknown'}.
              ${error.next_retry_at ? html`Next attempt${error.attempt ? ` (${error.attempt})` : ''} at ${when(error.next_retry_at)}.` : ''}
            </p>
            <p>
              Nothing has been applied by this run; checks keep answering from the current list. If the
              retries run out, the run fails and the next scheduled sync tries again.
            </p>
          </div>`,
        );
      } else {
        out.push(
          html`<div class="banner running" role="status">
            <strong class="title">Sync in progress</strong>
            <p>Meanwhile ${cachedFrom}.</p>
          </div>`,
        );
      }
      break;
    case 'never':
      break;
    case 'ok':
      if (!status.stale) {
        const count = status.instrument_count;
        out.push(
          html`<div class="banner ok" role="status">
            <strong class="title">Synced ${count} instrument${count === 1 ? '' : 's'}</strong>
            <p>Last successful sync ${when(status.last_success_at)} (${ago(status.last_success_at, now)}).</p>
          </div>`,
        );
      }
      break;
  }
  if (status.watch.error !== null) {
    out.push(
      html`<div class="banner unwatched" role="alert">
        <strong class="title">Edits in Confluence are not being watched</strong>
        <p>${status.watch.error.charAt(0).toUpperCase() + status.watch.error.slice(1)}.</p>
        <p>
          Checks are right as of the last sync; an edit saved since then is enforced only by the next
          scheduled sync (or “Sync now”).
        </p>
      </div>`,
    );
  }
  if (status.last_success_at === null) {
    out.push(
      html`<div class="banner never" role="alert">
        <strong class="title">No list is loaded yet: no sync has succeeded</strong>
        <p>
          Until a sync succeeds, checks answer <code>503 list_unavailable</code>: the service never says an
          instrument is not restricted without a list.
        </p>
      </div>`,
    );
  } else if (status.stale) {
    out.push(
      html`<div class="banner stale" role="alert">
        <strong class="title"
          >Data is stale: the last successful sync was ${when(status.last_success_at)}
          (${ago(status.last_success_at, now)})</strong
        >
        <p>
          No sync has succeeded for more than ${model.staleAfterMinutes} minutes; changes made on the
          Confluence page since then are not reflected here or in checks.
        </p>
      </div>`,
    );
  }
  return html`${out}`;
}

function formatLag(seconds: number): string {
  return seconds < 120 ? `${seconds.toFixed(seconds < 10 ? 1 : 0)} s` : `${Math.round(seconds / 60)} min`;
}

function watchFacts(watch: StatusAnswer['watch'], now: Date): Html {
  if (!watch.enabled)
    return html`<span class="muted"
      >off (RESTRICTED_LIST_WATCH_SECONDS=0): edits wait for the schedule</span
    >`;
  const probed =
    watch.last_probe_at === null
      ? html`<span class="muted">no probe yet</span>`
      : html`last probe ${when(watch.last_probe_at)} (${ago(watch.last_probe_at, now)})`;
  return html`every ${watch.every_seconds} s;
  ${probed}${watch.error === null ? '' : html` <span class="badge failed">not watching</span>`}`;
}

function statusCard(model: DashboardModel): Html {
  const { status, viewer } = model;
  const pages = status.pages.map((page) => {
    const href = safeHref(page.url);
    const label = html`${page.title} (v${page.version})`;
    return html`<div>${href ? html`<a href="${href}" rel="noopener noreferrer">${label}</a>` : label}</div>`;
  });
  const syncNow = isAdmin(viewer)
    ? html`<form method="post" action="/dashboard/sync" class="inline">
        ${csrfField(viewer)}<button type="submit" class="primary">Sync now</button>
      </form>`
    : html``;
  return html`<section class="card" aria-labelledby="status-h">
    <div class="section-head">
      <h2 id="status-h">Sync status</h2>
      ${syncNow}
    </div>
    <dl class="facts">
      <div>
        <dt>Status</dt>
        <dd>
          <span class="badge ${status.status === 'ok' ? 'succeeded' : status.status}"
            >${status.status === 'ok' ? 'ok' : (RUN_STATUS_LABELS[status.status] ?? status.status)}</span
          >${status.stale && status.last_success_at !== null ? html` <span class="badge failed">stale</span>` : ''}
        </dd>
      </div>
      <div>
        <dt>Last attempt</dt>
        <dd>${when(status.last_attempt_at)}</dd>
      </div>
      <div>
        <dt>Last successful sync</dt>
        <dd>${when(status.last_success_at)}</dd>
      </div>
      <div>
        <dt>Instruments on the list</dt>
        <dd>
          ${status.last_success_at === null ? html`<span class="muted">no list loaded</span>` : status.instrument_count}
        </dd>
      </div>
      <div>
        <dt>Edit watch</dt>
        <dd>${watchFacts(status.watch, model.now)}</dd>
      </div>
      <div>
        <dt>Last edit to enforcement</dt>
        <dd>
          ${status.watch.last_enforcement_lag_seconds === null ? html`<span class="muted">—</span>` : formatLag(status.watch.last_enforcement_lag_seconds)}
        </dd>
      </div>
      <div>
        <dt>Source pages</dt>
        <dd>${pages.length > 0 ? pages : html`<span class="muted">—</span>`}</dd>
      </div>
    </dl>
  </section>`;
}

function matches(instrument: ListedInstrument, query: string): boolean {
  const q = query.toLowerCase();
  return [instrument.ticker, instrument.isin, instrument.name].some(
    (value) => value !== null && value.toLowerCase().includes(q),
  );
}

function listCard(model: DashboardModel): Html {
  const { list, query, now } = model;
  const search = html`<form method="get" action="/" class="search" role="search">
    <label for="q" class="muted">Search by ticker, ISIN or name</label>
    <input type="search" id="q" name="q" value="${query}" placeholder="e.g. AAPL, US0378331005, Apple" />
    <button type="submit">Search</button>${query ? html` <a href="/">Clear</a>` : ''}
  </form>`;
  if (list === null) {
    return html`<section class="card" aria-labelledby="list-h">
      <h2 id="list-h">Current list</h2>
      <p>
        <strong>No list is loaded yet.</strong> No sync has succeeded, so there is nothing to show here, and
        this does <strong>not</strong> mean that nothing is restricted: checks answer
        <code>503 list_unavailable</code> until a list is loaded.
      </p>
    </section>`;
  }
  const found =
    query === '' ? list.instruments : list.instruments.filter((instrument) => matches(instrument, query));
  const shown = found.slice(0, model.maxRows);
  const summary =
    query === ''
      ? html`${list.count} instrument${list.count === 1 ? '' : 's'} restricted, as of ${when(list.as_of)}`
      : html`${found.length} of ${list.count} instruments match “${query}”`;
  const rows = shown.map((i) => {
    const inForce = isInForce(i, now);
    const dateNote = inForce
      ? ''
      : i.effective_from !== null && now.toISOString().slice(0, 10) < i.effective_from
        ? 'not yet in force'
        : 'expired';
    return html`<tr>
      <td class="mono">${dash(i.ticker)}</td>
      <td class="mono">${dash(i.isin)}</td>
      <td>${dash(i.name)}</td>
      <td><span class="badge ${i.restriction_type}">${RESTRICTION_LABELS[i.restriction_type]}</span></td>
      <td>${dash(i.reason)}</td>
      <td>${dash(i.effective_from)}</td>
      <td>
        ${dash(i.expires_at)}${dateNote ? html` <span class="badge not-in-force">${dateNote}</span>` : ''}
      </td>
    </tr>`;
  });
  const body =
    list.count === 0
      ? html`<p>The list is empty: the last successful sync applied a page with no instruments.</p>`
      : found.length === 0
        ? html`<p>No instrument on the list matches “${query}”.</p>`
        : html`${dataTable(['Ticker', 'ISIN', 'Name', 'Restriction', 'Reason', 'Effective from', 'Expires'], rows)}
          ${found.length > shown.length ? html`<p class="muted">Showing the first ${shown.length} of ${found.length}; search to narrow the list.</p>` : ''}`;
  return html`<section class="card" aria-labelledby="list-h">
    <div class="section-head">
      <h2 id="list-h">Current list</h2>
      <span class="muted">${summary}</span>
    </div>
    ${search}${body}
  </section>`;
}

/** A scrolling table: one header row, then the given rows. */
function dataTable(headers: readonly string[], rows: readonly Html[]): Html {
  return html`<div class="table-wrap">
    <table>
      <thead>
        <tr>
          ${headers.map((h) => html`<th>${h}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

function runOutcome(run: RunAnswer): Html {
  const parts: Html[] = [];
  if (run.held_reason && run.status === 'awaiting_approval')
    parts.push(html`<div>Held: ${run.held_reason}</div>`);
  if (run.decision)
    parts.push(
      html`<div>
        ${run.decision.decision} by
        ${run.decision.by ?? 'unknown'}${run.decision.at ? html` at ${when(run.decision.at)}` : ''}
      </div>`,
    );
  if (run.error)
    parts.push(
      html`<div>${run.error.code ? html`<code>${run.error.code}</code>: ` : ''}${run.error.message}</div>`,
    );
  return parts.length > 0 ? html`${parts}` : html`<span class="muted">—</span>`;
}

/** Who or what started a run: a named operator, the edit watch, or the schedule. */
function triggerText(run: RunAnswer): Html {
  switch (run.trigger) {
    case 'manual':
      return html`manual${run.requested_by ? html`, by ${run.requested_by}` : ''}`;
    case 'watch':
      return html`edit watch`;
    case 'schedule':
      return html`schedule`;
  }
}

function runsCard(runs: RunAnswer[]): Html {
  const rows = runs.map((run) => {
    const href = safeHref(run.temporal_ui_url);
    return html`<tr>
      <td>${when(run.started_at)}</td>
      <td>${when(run.finished_at)}</td>
      <td>
        <span class="badge ${run.status}">${RUN_STATUS_LABELS[run.status] ?? run.status}</span>
        ${href ? html`<div><a href="${href}" rel="noopener noreferrer" title="${run.workflow_id}" class="nowrap">Temporal UI</a></div>` : ''}
      </td>
      <td>${triggerText(run)}</td>
      <td class="num">${dash(run.added)}</td>
      <td class="num">${dash(run.removed)}</td>
      <td class="num">${dash(run.modified)}</td>
      <td class="num">${dash(run.unchanged)}</td>
      <td class="num">${run.warnings}</td>
      <td class="outcome">${runOutcome(run)}</td>
    </tr>`;
  });
  return html`<section class="card" aria-labelledby="runs-h">
    <h2 id="runs-h">Recent runs</h2>
    ${
      runs.length === 0
        ? html`<p class="muted">No sync has run yet.</p>`
        : dataTable(
            [
              'Started',
              'Finished',
              'Status',
              'Trigger',
              'Added',
              'Removed',
              'Modified',
              'Unchanged',
              'Warnings',
              'Decision / error',
            ],
            rows,
          )
    }
  </section>`;
}

const FIELD_LABELS: Record<keyof CheckMatch, string> = {
  ticker: 'ticker',
  isin: 'ISIN',
  name: 'name',
  restriction_type: 'restriction',
  reason: 'reason',
  effective_from: 'effective from',
  expires_at: 'expires',
};

/** A recorded field (older records may lack one). */
function fieldText(value: string | null | undefined): string {
  return value === null || value === undefined ? '(none)' : value;
}

function changeDetails(change: ListChange): Html {
  const { before, after } = change;
  if (change.change === 'modified' && before !== null && after !== null) {
    const edits = (Object.keys(FIELD_LABELS) as (keyof CheckMatch)[])
      .filter((field) => fieldText(before[field]) !== fieldText(after[field]))
      .map(
        (field) =>
          html`<li>
            ${FIELD_LABELS[field]}: <del>${fieldText(before[field])}</del> →
            <ins>${fieldText(after[field])}</ins>
          </li>`,
      );
    return edits.length > 0
      ? html`<ul>
          ${edits}
        </ul>`
      : html`<span class="muted">—</span>`;
  }
  const state = change.change === 'removed' ? before : after;
  if (state === null) return html`<span class="muted">—</span>`;
  // Recorded before and after states are kept as written: a type this version does not know is shown as is.
  const type = RESTRICTION_LABELS[state.restriction_type] ?? fieldText(state.restriction_type);
  return html`${state.name ? html`${state.name}; ` : ''}${type}${state.reason ? html`; ${state.reason}` : ''}`;
}

function changesCard(changes: ListChange[]): Html {
  const rows = changes.map(
    (c) =>
      html`<tr>
        <td>${when(c.at)}</td>
        <td><span class="badge ${c.change}">${c.change}</span></td>
        <td class="mono">
          ${c.ticker === null ? '' : html`<strong>${c.ticker}</strong>`}${c.ticker !== null && c.isin !== null ? html`<br />` : ''}${c.isin ?? ''}
        </td>
        <td>${changeDetails(c)}</td>
        <td class="nowrap">
          ${c.page_id === null ? html`<span class="muted">—</span>` : html`${c.page_id}${c.page_version === null ? '' : html`, v${c.page_version}`}`}
        </td>
        <td>${dash(c.edited_by)}</td>
        <td class="num" title="applied by run ${c.run_id}">${c.list_version}</td>
      </tr>`,
  );
  return html`<section class="card changes" aria-labelledby="changes-h">
    <h2 id="changes-h">Recent changes</h2>
    ${
      changes.length === 0
        ? html`<p class="muted">No change has been applied yet.</p>`
        : dataTable(
            ['When', 'Change', 'Instrument', 'Before → after', 'Page, version', 'Edited by', 'List version'],
            rows,
          )
    }
  </section>`;
}

/** What the latest run read besides the list: each page's checksum, and every parse warning. */
function readingCard(latest: RunReading | null): Html {
  if (latest === null || (latest.warnings.length === 0 && latest.checksums.length === 0)) return html``;
  const checks = latest.checksums.map(
    (c) =>
      html`<li class="${c.holds ? 'holds' : 'mismatch'}">
        Page ${c.page_id} says “${c.text}” (in ${c.where}):
        ${
          c.holds
            ? html`${c.found} instruments were read, <strong>it holds</strong>.`
            : html`<strong
                  >${c.found} ${c.found === 1 ? 'instrument was' : 'instruments were'} read, it does not
                  hold</strong
                >; the run applied nothing.`
        }
      </li>`,
  );
  const rows = latest.warnings.map(
    (w) =>
      html`<tr>
        <td class="mono">${dash(w.page)}</td>
        <td class="num">${dash(w.table)}</td>
        <td class="num">${dash(w.row)}</td>
        <td>${dash(w.column)}</td>
        <td>${w.problem}</td>
        <td class="mono">${dash(w.raw)}</td>
      </tr>`,
  );
  return html`<section class="card" aria-labelledby="reading-h">
    <h2 id="reading-h">What the latest run read</h2>
    ${
      checks.length > 0
        ? html`<ul class="checksums">
            ${checks}
          </ul>`
        : ''
    }
    ${
      rows.length === 0
        ? html`<p class="muted">No parse warnings.</p>`
        : html`<p>
              ${rows.length} parse warning${rows.length === 1 ? '' : 's'}: rows or cells the parser could not
              fully read. Each may mean an instrument Compliance meant to restrict is missing; fix them on the
              page.
            </p>
            ${dataTable(['Page', 'Table', 'Row', 'Column', 'Problem', 'As written'], rows)}`
    }
  </section>`;
}

export function dashboardPage(model: DashboardModel): string {
  return layout(
    'Restricted instruments list',
    model.viewer,
    html`${flashBox(model.flash)}${banners(model)}${statusCard(model)}${listCard(model)}${runsCard(model.runs)}${readingCard(model.latest)}${changesCard(model.changes)}
      <footer>
        Times are UTC. Edits are made on the Confluence page; this dashboard shows what the service has synced
        from it.
      </footer>`,
  );
}

export function signInPage(options: {
  csrf: string;
  error: string | null;
  open: boolean;
  flash: Flash | null;
}): string {
  return layout(
    'Sign in - Restricted instruments list',
    null,
    html`<section class="card sign-in" aria-labelledby="sign-in-h">
      <h2 id="sign-in-h">Sign in</h2>
      ${flashBox(options.flash)}
      ${options.error ? html`<div class="flash error" role="alert">${options.error}</div>` : ''}
      ${options.open ? html`<p>No API tokens are configured: the dashboard is open for reading (<a href="/">open it</a>) and admin actions are disabled.</p>` : ''}
      <form method="post" action="/sign-in">
        <input type="hidden" name="csrf" value="${options.csrf}" />
        <label for="token">API token (read or admin)</label>
        <input type="password" id="token" name="token" autocomplete="off" required autofocus />
        <button type="submit" class="primary">Sign in</button>
      </form>
      <p class="muted">
        Use a token from <code>API_READ_TOKENS</code> to read, or from <code>API_ADMIN_TOKENS</code> to also
        approve runs and start syncs. The token itself is never stored in your browser.
      </p>
    </section>`,
  );
}

export function errorPage(
  status: number,
  title: string,
  message: string,
  viewer: Viewer | null = null,
): string {
  return layout(
    `${title} - Restricted instruments list`,
    viewer,
    html`<section class="card">
      <h2>${title}</h2>
      <p>${message}</p>
      <p>
        <a href="/">Back to the dashboard</a
        >${status === 401 || status === 403 ? html` · <a href="/sign-in">Sign in</a>` : ''}
      </p>
    </section>`,
  );
}
