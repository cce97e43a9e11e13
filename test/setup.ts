import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

declare global {
  /** Every log line the Temporal runtime emitted in this test file's process (for secret scans). */
  var temporalLogLines: string[];
}
globalThis.temporalLogLines = [];

// Workers in tests print errors only (failure-path tests produce expected warnings), but every
// line is kept so a test can prove that no secret is ever logged.
Runtime.install({
  logger: new DefaultLogger('INFO', (entry: LogEntry) => {
    globalThis.temporalLogLines.push(
      JSON.stringify({ level: entry.level, message: entry.message, meta: entry.meta }),
    );
    if (entry.level === 'ERROR') console.error(entry.message, entry.meta);
  }),
});
