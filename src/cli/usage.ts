/** Exit codes every command shares (sysexits' 64 for usage). */
export const EXIT = { ok: 0, failure: 1, unusable: 2, restricted: 3, held: 4, usage: 64 } as const;

export const USAGE = `usage: npm run -s cli -- <command>

commands:
  parse <file.xhtml> [--json]   parse a page saved in Confluence storage format, without writing anything
  preview [--json]              resolve, fetch and parse the configured page(s) without writing anything

  status [--json]               the sync status: last success, staleness, a failed or held run
  check <ticker|isin> [--side buy|sell] [--at <iso-8601>] [--json]
                                is the instrument restricted (now, or at a past instant)?
  sync [--wait] [--timeout <seconds>] [--json]
                                start a sync now (admin token); --wait: until the run ends (default 600 s)
  approve <workflow-id> [--json]
                                apply a run held by the removal guard (admin token)
  reject <workflow-id> [--json] discard a held run: the list stays as it is (admin token)

status, check, sync, approve and reject call the API at RLS_API_URL (default http://localhost:$PORT,
PORT 3000) with the bearer token in RLS_API_TOKEN, or in the file named by RLS_API_TOKEN_FILE.
--json prints the API's JSON as it is.

exit codes: 0 done (check: not restricted), 1 failure or the service cannot answer, 2 a sync would
fail on the page (no list table, or its instrument count does not hold), 3 check: restricted,
4 sync --wait: held for approval, 64 usage
`;

/** A usage error: the reason, then the usage text, on stderr. */
export function usage(reason?: string): number {
  process.stderr.write(`${reason === undefined ? '' : `${reason}\n\n`}${USAGE}`);
  return EXIT.usage;
}
