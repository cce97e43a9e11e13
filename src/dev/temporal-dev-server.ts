import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../temporal/contract.ts';
import { freePort } from './free-port.ts';

/**
 * A local Temporal dev server (with its Web UI) for `npm run dev` and the tests.
 *
 * The CLI is found in this order, each step saying what it does:
 * TEMPORAL_CLI_PATH → a cached build → `go install` into the cache → the SDK's own download.
 * (The SDK's download host is not reachable from every network, hence the Go build.)
 */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** Later tags carry a `replace` directive that `go install` refuses. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export interface TemporalDevServer {
  readonly address: string;
  readonly uiUrl: string | null;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  env?: NodeJS.ProcessEnv;
  port?: number;
  uiPort?: number;
  /** Persist workflow history across restarts (dev); in memory when absent (tests). */
  dbFilename?: string;
  ui?: boolean;
  onProgress?: (line: string) => void;
}

/** Where machine-wide build products (Node, the Temporal CLI) are cached, outside any checkout. */
export function toolCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RLS_CACHE_DIR) return env.RLS_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'restricted-list-sync');
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(toolCacheDir(env), `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Returns the CLI's path, or null when only the SDK's download is left to try. */
export async function findTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  onProgress: (line: string) => void = () => {},
): Promise<string | null> {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) {
      throw new Error(`TEMPORAL_CLI_PATH: ${env.TEMPORAL_CLI_PATH} is not an executable file`);
    }
    onProgress(`temporal: using TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH}`);
    return env.TEMPORAL_CLI_PATH;
  }
  const cached = cachedCliPath(env);
  if (isExecutable(cached)) {
    onProgress(`temporal: using the cached CLI ${cached}`);
    return cached;
  }
  const bin = join(toolCacheDir(env), `temporal-${TEMPORAL_CLI_VERSION}`);
  onProgress(
    `temporal: building the CLI with 'go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}' into ${bin} (once per machine, about 3 minutes)`,
  );
  try {
    await mkdir(bin, { recursive: true });
    await promisify(execFile)('go', ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: bin, GOFLAGS: '-mod=mod' },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (isExecutable(cached)) return cached;
    onProgress('temporal: go install finished but left no binary');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'Go is not installed'
        : String((error as Error).message)
            .split('\n')
            .slice(-3)
            .join(' ');
    onProgress(`temporal: the Go build failed (${reason})`);
  }
  return null;
}

async function waitForFrontend(address: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `the Temporal dev server exited with code ${child.exitCode}: ${stderr().trim().split('\n').slice(-5).join(' | ')}`,
      );
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`the Temporal dev server did not answer on ${address} within 60 s`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function searchAttributeArgs(): string[] {
  return Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
    '--search-attribute',
    `${name}=${type}`,
  ]);
}

async function startFromCli(cli: string, options: DevServerOptions): Promise<TemporalDevServer> {
  const port = options.port || (await freePort());
  const ui = options.ui ?? true;
  const uiPort = ui ? options.uiPort || (await freePort()) : null;
  if (options.dbFilename) await mkdir(join(options.dbFilename, '..'), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(await freePort()),
    '--metrics-port',
    String(await freePort()),
    '--log-level',
    'error',
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...searchAttributeArgs(),
  ];
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // A process that exits without stopping the server (an uncaught error) must not leave it running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8_000);
  });
  const address = `127.0.0.1:${port}`;
  try {
    await waitForFrontend(address, child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    address,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function startFromSdkDownload(options: DevServerOptions): Promise<TemporalDevServer> {
  options.onProgress?.("temporal: trying the SDK's own download of the dev server");
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const port = options.port || (await freePort());
  const uiPort = options.ui === false ? undefined : options.uiPort || (await freePort());
  const environment = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port,
      ui: uiPort !== undefined,
      ...(uiPort === undefined ? {} : { uiPort }),
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      extraArgs: searchAttributeArgs(),
    },
  });
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: uiPort === undefined ? null : `http://127.0.0.1:${uiPort}`,
    stop: () => environment.teardown(),
  };
}

export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<TemporalDevServer> {
  const onProgress = options.onProgress ?? (() => {});
  const cli = await findTemporalCli(options.env ?? process.env, onProgress);
  if (cli !== null) {
    onProgress(`temporal: starting the dev server (${cli})`);
    return startFromCli(cli, options);
  }
  try {
    return await startFromSdkDownload(options);
  } catch (error) {
    throw new Error(
      'no Temporal dev server could be started: set TEMPORAL_CLI_PATH to a temporal CLI binary, install Go ' +
        `(to build ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}), or set TEMPORAL_ADDRESS to a running server` +
        ` (the SDK download failed: ${(error as Error).message})`,
      { cause: error },
    );
  }
}
