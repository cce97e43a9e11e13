/**
 * The commands that ask the running service: `status`, `check`, `sync`, `approve`, `reject`.
 * Each prints the API's JSON as it is with `--json`, a readable answer otherwise, and turns every
 * failure into one line on stderr. `check` never reads as "not restricted" unless the API said so.
 */
import { parseArgs } from 'node:util';
import { loadDotEnv } from '../config.ts';
import { isValidIsin, normaliseIsin } from '../parser/normalise.ts';
import { callApi, CliError, resolveTarget, type ApiResponse, type ApiTarget } from './api-client.ts';
import { EXIT, usage } from './usage.ts';
import type {
  CheckAnswer,
  CheckMatch,
  DecisionAnswer,
  RunAnswer,
  RunsAnswer,
  StatusAnswer,
  TriggerAnswer,
} from '../api/schemas.ts';
import type { RestrictionType } from '../domain/index.ts';

interface Output {
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

const output = (json: boolean): Output => ({
  json,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});

/** `--json` prints the API's body exactly as it came. */
function printJson(o: Output, response: ApiResponse): void {
  o.out(response.text.trimEnd());
}

const CLI = 'npm run -s cli --';

const TYPE_WORDS: Record<RestrictionType, string> = {
  full: 'full: buying and selling restricted',
  buy_only: 'buy only: buying restricted, selling allowed',
  sell_only: 'sell only: selling restricted, buying allowed',
};

function describeMatch(match: CheckMatch): string {
  const dates = [
    match.effective_from && `from ${match.effective_from}`,
    match.expires_at && `until ${match.expires_at} (exclusive)`,
  ].filter(Boolean);
  return [
    `  ${[match.ticker, match.isin, match.name].filter((part) => part !== null).join('  ')}`,
    `    ${TYPE_WORDS[match.restriction_type] ?? match.restriction_type}`,
    ...(match.reason === null ? [] : [`    reason: ${match.reason}`]),
    ...(dates.length ? [`    in force ${dates.join(' ')}`] : []),
  ].join('\n');
}

function describeRun(run: RunAnswer): string[] {
  const lines = [`run           ${run.workflow_id} (${run.status.replaceAll('_', ' ')})`];
  if (run.status === 'awaiting_approval') {
    lines.push(
      `              held: ${run.held_reason ?? 'by the removal guard'}`,
      `              approve: ${CLI} approve ${run.workflow_id}`,
      `              reject:  ${CLI} reject ${run.workflow_id}`,
    );
  }
  lines.push(`              ${run.temporal_ui_url}`);
  return lines;
}

const count = (value: number | null) => value ?? 0;

function describeFinishedRun(run: RunAnswer): string {
  const changes = `${count(run.added)} added, ${count(run.removed)} removed, ${count(run.modified)} modified, ${count(run.unchanged)} unchanged, ${run.warnings} warnings`;
  switch (run.status) {
    case 'succeeded':
      return `sync succeeded: ${changes}${run.list_version === null ? '' : ` (list version ${run.list_version})`}\n  ${run.temporal_ui_url}`;
    case 'failed':
      return `sync failed: ${run.error?.message ?? 'no reason recorded'}${run.error?.code ? ` (${run.error.code})` : ''}; the list stays as it was\n  ${run.temporal_ui_url}`;
    case 'awaiting_approval':
      return [
        `sync held for approval: ${run.held_reason ?? 'by the removal guard'}; nothing is applied until an operator decides`,
        `  approve: ${CLI} approve ${run.workflow_id}`,
        `  reject:  ${CLI} reject ${run.workflow_id}`,
        `  ${run.temporal_ui_url}`,
      ].join('\n');
    default:
      return `sync ${run.status}: ${run.workflow_id}\n  ${run.temporal_ui_url}`;
  }
}

/** Runs one API command: target from the environment (and .env), failures as one line. */
async function withApi(
  json: boolean,
  what: string | null,
  body: (target: ApiTarget, o: Output) => Promise<number>,
): Promise<number> {
  const o = output(json);
  try {
    loadDotEnv();
    return await body(await resolveTarget(process.env), o);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    // With --json, the API's own error JSON goes to stdout as well, for scripts.
    if (o.json && error.response !== null && error.response.body !== null) printJson(o, error.response);
    o.err(what === null ? error.message : `${what}: ${error.message}`);
    return error.exitCode;
  }
}

function describeWatch(watch: StatusAnswer['watch']): string {
  if (!watch.enabled) return 'off (RESTRICTED_LIST_WATCH_SECONDS=0): edits wait for the schedule';
  const probe = watch.last_probe_at === null ? 'no probe yet' : `last probe ${watch.last_probe_at}`;
  const lag =
    watch.last_enforcement_lag_seconds === null
      ? ''
      : `; last edit enforced ${watch.last_enforcement_lag_seconds} s after it was saved`;
  return watch.error === null
    ? `every ${watch.every_seconds} s, ${probe}${lag}`
    : `NOT WATCHING: ${watch.error}`;
}

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  if (positionals.length) return usage('status takes no arguments');
  return withApi(values.json, null, async (target, o) => {
    const response = await callApi(target, 'GET', '/v1/sync/status');
    if (o.json) {
      printJson(o, response);
      return EXIT.ok;
    }
    const status = response.body as StatusAnswer;
    const lines = [
      `status        ${status.status.replaceAll('_', ' ')}: ${status.message}`,
      `last success  ${status.last_success_at ?? 'never'}`,
      `last attempt  ${status.last_attempt_at ?? 'never'}`,
      `instruments   ${status.instrument_count} active`,
      `stale         ${status.stale ? 'yes' : 'no'}`,
      `edit watch    ${describeWatch(status.watch)}`,
      ...status.pages.map(
        (page) =>
          `page          ${page.id} "${page.title}" v${page.version}${page.url ? `  ${page.url}` : ''}`,
      ),
      ...(status.current_run ? describeRun(status.current_run) : []),
      ...(status.last_error
        ? [
            `last error    ${status.last_error.message ?? ''}${status.last_error.code ? ` (${status.last_error.code})` : ''}`,
            ...(status.last_error.next_retry_at
              ? [`next attempt  ${status.last_error.attempt ?? ''} at ${status.last_error.next_retry_at}`]
              : []),
          ]
        : []),
    ];
    o.out(lines.join('\n'));
    return EXIT.ok;
  });
}

export async function checkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false }, side: { type: 'string' }, at: { type: 'string' } },
    allowPositionals: true,
  });
  const raw = positionals[0]?.trim();
  if (!raw || positionals.length > 1)
    return usage('check takes one ticker or ISIN (quote a ticker with spaces: "AAPL US")');
  const side = values.side?.trim().toLowerCase();
  if (side !== undefined && side !== 'buy' && side !== 'sell')
    return usage(`--side must be buy or sell, not "${values.side}"`);
  // A valid ISIN is looked up as one; anything else is a ticker (the API normalises both).
  const identifier = isValidIsin(normaliseIsin(raw)) ? 'isin' : 'ticker';
  const query = new URLSearchParams({ [identifier]: raw });
  if (side !== undefined) query.set('side', side);
  if (values.at !== undefined) query.set('at', values.at);
  return withApi(values.json, `cannot check ${raw}`, async (target, o) => {
    const response = await callApi(target, 'GET', `/v1/check?${query}`);
    const answer = response.body as CheckAnswer;
    if (typeof answer.restricted !== 'boolean')
      throw new CliError('the API answered without a verdict: is RLS_API_URL the restricted-list-sync API?');
    if (o.json) printJson(o, response);
    else {
      const forSide = side === undefined ? '' : ` for ${side}`;
      const when = values.at === undefined ? '' : ` at ${values.at}`;
      const verdict = answer.restricted
        ? [`RESTRICTED${forSide}${when}: ${raw} (${answer.severity})`, ...answer.matches.map(describeMatch)]
        : [`not restricted${forSide}${when}: ${raw}`];
      o.out([...verdict, `list version ${answer.list_version}, synced ${answer.as_of}`].join('\n'));
      if (answer.stale) o.err(`warning: the list was stale: its last successful sync was at ${answer.as_of}`);
    }
    return answer.restricted ? EXIT.restricted : EXIT.ok;
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function syncCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length) return usage('sync takes no arguments');
  const timeoutSeconds = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    return usage(`--timeout must be a number of seconds, not "${values.timeout}"`);
  if (values.timeout !== undefined && !values.wait) return usage('--timeout goes with --wait');
  return withApi(values.json, null, async (target, o) => {
    const started = await callApi(target, 'POST', '/v1/sync').catch((error: unknown) => {
      throw error instanceof CliError
        ? new CliError(`cannot start a sync: ${error.message}`, error.exitCode, error.response)
        : error;
    });
    const {
      workflow_id: workflowId,
      run_id: runId,
      already_running: alreadyRunning,
    } = started.body as TriggerAnswer;
    if (!values.wait) {
      if (o.json) printJson(o, started);
      else
        o.out(
          `${alreadyRunning ? 'a sync is already in progress' : 'sync started'}: ${workflowId}\n  follow it: ${CLI} status`,
        );
      return EXIT.ok;
    }
    // Waits by polling the run rather than with POST ?wait=true: a run held for approval would
    // keep that request open until someone decides, and a held run is an answer here.
    if (!o.json)
      o.err(
        `${alreadyRunning ? 'a sync is already in progress' : 'sync started'}: ${workflowId}; waiting for it to end`,
      );
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const response = await callApi(target, 'GET', '/v1/sync/runs?limit=50').catch((error: unknown) => {
        throw error instanceof CliError
          ? new CliError(`sync ${workflowId} started, but: ${error.message}`, error.exitCode, error.response)
          : error;
      });
      const run = (response.body as RunsAnswer).runs.find((candidate) => candidate.run_id === runId);
      if (run !== undefined && run.status !== 'running') {
        if (o.json) o.out(JSON.stringify(run));
        else o.out(describeFinishedRun(run));
        return run.status === 'succeeded'
          ? EXIT.ok
          : run.status === 'awaiting_approval'
            ? EXIT.held
            : EXIT.failure;
      }
      if (Date.now() > deadline) {
        throw new CliError(
          `run ${workflowId} is still in progress after ${timeoutSeconds} s${run ? `; follow it at ${run.temporal_ui_url}` : ''}`,
        );
      }
      await sleep(500);
    }
  });
}

function decisionCommand(decision: 'approve' | 'reject') {
  return async (args: string[]): Promise<number> => {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
    const workflowId = positionals[0]?.trim();
    if (!workflowId || positionals.length > 1)
      return usage(`${decision} takes the workflow id of a held run (see ${CLI} status)`);
    return withApi(values.json, `cannot ${decision} ${workflowId}`, async (target, o) => {
      const response = await callApi(
        target,
        'POST',
        `/v1/sync/runs/${encodeURIComponent(workflowId)}/${decision}`,
      );
      if (o.json) {
        printJson(o, response);
        return EXIT.ok;
      }
      const { by } = response.body as DecisionAnswer;
      o.out(
        decision === 'approve'
          ? `approved ${workflowId} (as ${by}): the held sync now applies its changes\n  follow it: ${CLI} status`
          : `rejected ${workflowId} (as ${by}): nothing is applied and the list stays as it was`,
      );
      return EXIT.ok;
    });
  };
}

export const approveCommand = decisionCommand('approve');
export const rejectCommand = decisionCommand('reject');
