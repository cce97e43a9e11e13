/**
 * Makes a test's helper process (api-process.ts, worker-process.ts) never outlive the test: it
 * exits when its parent's IPC channel closes (when spawned with one), and after
 * RLS_MAX_LIFETIME_MS when that is set. `name` starts the line it prints when it gives up.
 */
export function exitWithParentTest(name: string): void {
  const maxLifetimeMs = Number(process.env.RLS_MAX_LIFETIME_MS ?? 0);
  if (maxLifetimeMs > 0) {
    setTimeout(() => {
      console.error(`${name}: still running after ${maxLifetimeMs} ms; exiting`);
      process.exit(3);
    }, maxLifetimeMs).unref();
  }
  // The parent test died without stopping us.
  if (process.send) process.on('disconnect', () => process.exit(4));
}
