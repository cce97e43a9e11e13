import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CLOUD_ID } from './confluence/cloud-id.ts';
import { parsePageRef, PageRefError, type PageRef } from './confluence/page-ref.ts';

/**
 * The one place that reads the environment. Everything else receives the frozen `Config`.
 * Every variable is the contract's (../shared/CONTRACT.md, "Configuration").
 */
export interface Config {
  readonly nodeEnv: string;
  readonly confluence: {
    /** CONFLUENCE_DEPLOYMENT: Atlassian Cloud, or a self-hosted Data Center / Server. */
    readonly deployment: ConfluenceDeployment;
    /**
     * Cloud: the site URL without a trailing `/wiki` (the client adds it). Data Center: the base URL
     * with its context path. Page links are resolved and shown against it. Null with `USE_MOCK_DATA`.
     */
    readonly url: string | null;
    /** Cloud: the account e-mail. Data Center: the username for basic auth; null sends the token as a PAT. */
    readonly username: string | null;
    readonly apiToken: string | null;
    /** Cloud only: a scoped API token, which works only through the API gateway. */
    readonly scopedToken: boolean;
    /** CONFLUENCE_CLOUD_ID; null: discovered from `{url}/_edge/tenant_info` when a scoped token needs it. */
    readonly cloudId: string | null;
    /** The Atlassian API gateway's base URL, without a trailing slash. */
    readonly apiGatewayUrl: string;
  };
  /** The configured list pages, as written and as understood. */
  readonly pageRefs: readonly string[];
  readonly pages: readonly PageRef[];
  readonly cql: string | null;
  readonly syncIntervalMinutes: number;
  readonly staleAfterMinutes: number;
  readonly maxRemovalPercent: number;
  /** RESTRICTED_LIST_WATCH_SECONDS: how often the edit watch probes Confluence; 0: no watch. */
  readonly watchSeconds: number;
  readonly useMockData: boolean;
  readonly mockDataPath: string;
  /** Null: start an embedded Postgres (development only). */
  readonly databaseUrl: string | null;
  readonly temporal: {
    readonly address: string;
    /** True when TEMPORAL_ADDRESS was set explicitly (dev tooling starts a local server otherwise). */
    readonly addressIsExplicit: boolean;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly uiUrl: string;
  };
  readonly port: number;
  readonly readTokens: readonly ApiToken[];
  readonly adminTokens: readonly ApiToken[];
}

export const CONFLUENCE_DEPLOYMENTS = ['cloud', 'datacenter'] as const;
export type ConfluenceDeployment = (typeof CONFLUENCE_DEPLOYMENTS)[number];

export interface ApiToken {
  /** Name recorded with what the token does (`name=token` entries); otherwise a generic label. */
  readonly name: string;
  readonly token: string;
}

/** A configuration problem: one line naming the variable and the fix. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Every variable loadConfig reads (secrets also as `<NAME>_FILE`). Deployment files are checked
 * against this list, and a test proves loadConfig reads exactly these.
 */
export const CONFIG_VARIABLES = [
  'NODE_ENV',
  'CONFLUENCE_URL',
  'CONFLUENCE_USERNAME',
  'CONFLUENCE_API_TOKEN',
  'CONFLUENCE_DEPLOYMENT',
  'CONFLUENCE_API_TOKEN_SCOPED',
  'CONFLUENCE_CLOUD_ID',
  'CONFLUENCE_API_GATEWAY_URL',
  'RESTRICTED_INSTRUMENTS_PAGE_URL',
  'RESTRICTED_INSTRUMENTS_CQL',
  'RESTRICTED_LIST_SYNC_INTERVAL_MINUTES',
  'RESTRICTED_LIST_STALE_AFTER_MINUTES',
  'RESTRICTED_LIST_MAX_REMOVAL_PERCENT',
  'RESTRICTED_LIST_WATCH_SECONDS',
  'USE_MOCK_DATA',
  'MOCK_DATA_PATH',
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_UI_URL',
  'PORT',
  'API_READ_TOKENS',
  'API_ADMIN_TOKENS',
] as const;
/** The ones that may instead name a file holding the value. */
export const SECRET_VARIABLES = ['CONFLUENCE_API_TOKEN', 'API_READ_TOKENS', 'API_ADMIN_TOKENS'] as const;

const DEFAULT_MOCK_DATA_PATH = new URL('../test/data/restricted_instruments.json', import.meta.url).pathname;

/** Reads `NAME`, or the file named by `NAME_FILE` (Docker/Kubernetes secrets), trimmed. */
function readSecret(env: Env, name: string): string | null {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file) {
    throw new ConfigError(name, `set either ${name} or ${name}_FILE, not both`);
  }
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim() || null;
    } catch {
      throw new ConfigError(
        `${name}_FILE`,
        `cannot read the file ${file}; point it at a readable file holding the secret`,
      );
    }
  }
  return direct === undefined || direct === '' ? null : direct.trim();
}

function optional(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? null : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === null) return fallback;
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(raw);
  if (!/^-?\d+$/.test(raw) || !parsed.success) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return parsed.data;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function httpUrl(name: string, raw: string, example = 'https://example.atlassian.net'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL ("${raw}"); expected e.g. ${example}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`);
  }
  return url;
}

/**
 * Cloud: `https://x.atlassian.net/wiki/` → `https://x.atlassian.net` (the client adds `/wiki` itself).
 * Data Center: the context path is part of the base URL and kept as it is (it may well be `/wiki`).
 */
export function normaliseConfluenceUrl(raw: string, deployment: ConfluenceDeployment = 'cloud'): string {
  const url = httpUrl(
    'CONFLUENCE_URL',
    raw,
    deployment === 'cloud' ? 'https://example.atlassian.net' : 'https://wiki.example.com/confluence',
  );
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${deployment === 'cloud' ? path.replace(/\/wiki$/i, '') : path}`;
}

const isAtlassianCloudHost = (url: string) => /(^|\.)atlassian\.net$/i.test(new URL(url).hostname);

function deploymentOf(env: Env): ConfluenceDeployment {
  const raw = optional(env, 'CONFLUENCE_DEPLOYMENT')?.toLowerCase() ?? 'cloud';
  const found = CONFLUENCE_DEPLOYMENTS.find((deployment) => deployment === raw);
  if (found === undefined) {
    throw new ConfigError(
      'CONFLUENCE_DEPLOYMENT',
      `must be cloud (Atlassian Cloud) or datacenter (Confluence Data Center or Server), got "${raw}"`,
    );
  }
  return found;
}

/** Cloud ids are UUIDs (the `cloudId` of `{site}/_edge/tenant_info`). */
function cloudIdOf(env: Env): string | null {
  const raw = optional(env, 'CONFLUENCE_CLOUD_ID');
  if (raw !== null && !CLOUD_ID.test(raw)) {
    throw new ConfigError(
      'CONFLUENCE_CLOUD_ID',
      `must be the site's cloud id, a UUID (the "cloudId" of https://<site>.atlassian.net/_edge/tenant_info), got "${raw}"`,
    );
  }
  return raw;
}

const DEFAULT_API_GATEWAY_URL = 'https://api.atlassian.com';

function normaliseGatewayUrl(raw: string | null): string {
  if (raw === null) return DEFAULT_API_GATEWAY_URL;
  const url = httpUrl('CONFLUENCE_API_GATEWAY_URL', raw, DEFAULT_API_GATEWAY_URL);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function tokens(env: Env, name: string): ApiToken[] {
  const raw = readSecret(env, name);
  if (raw === null) return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, index) => {
      const eq = entry.indexOf('=');
      const token = eq === -1 ? entry : entry.slice(eq + 1).trim();
      const name_ =
        eq === -1
          ? `${name === 'API_ADMIN_TOKENS' ? 'admin' : 'reader'}-${index + 1}`
          : entry.slice(0, eq).trim();
      if (token.length < 16) {
        throw new ConfigError(
          name,
          `entry ${index + 1} is shorter than 16 characters; use long random tokens`,
        );
      }
      return { name: name_, token };
    });
}

/** The task queue when TEMPORAL_TASK_QUEUE is not set. */
export const DEFAULT_TASK_QUEUE = 'restricted-list-sync';

/** DATABASE_URL alone, for commands that only need the database (migrations). */
export function loadDatabaseUrl(env: Env = process.env): string | null {
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// connection string');
  }
  if (databaseUrl === null && (optional(env, 'NODE_ENV') ?? 'development') === 'production') {
    throw new ConfigError(
      'DATABASE_URL',
      'is required in production (the embedded Postgres is for development only)',
    );
  }
  return databaseUrl;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = optional(env, 'NODE_ENV') ?? 'development';
  const useMockData = boolean(env, 'USE_MOCK_DATA', false);

  const pageRefs = (optional(env, 'RESTRICTED_INSTRUMENTS_PAGE_URL') ?? '')
    .split(',')
    .map((ref) => ref.trim())
    .filter((ref) => ref !== '');
  const cql = optional(env, 'RESTRICTED_INSTRUMENTS_CQL');

  const deployment = deploymentOf(env);
  const confluenceUrlRaw = optional(env, 'CONFLUENCE_URL');
  const confluenceUrl =
    confluenceUrlRaw === null ? null : normaliseConfluenceUrl(confluenceUrlRaw, deployment);
  const username = optional(env, 'CONFLUENCE_USERNAME');
  const apiToken = readSecret(env, 'CONFLUENCE_API_TOKEN');
  const scopedToken = boolean(env, 'CONFLUENCE_API_TOKEN_SCOPED', false);
  const cloudId = cloudIdOf(env);
  const apiGatewayUrl = normaliseGatewayUrl(optional(env, 'CONFLUENCE_API_GATEWAY_URL'));
  if (deployment === 'datacenter') {
    if (scopedToken) {
      throw new ConfigError(
        'CONFLUENCE_API_TOKEN_SCOPED',
        'scoped API tokens exist only on Atlassian Cloud; with CONFLUENCE_DEPLOYMENT=datacenter unset it (use a personal access token, or a username and password)',
      );
    }
    if (confluenceUrl !== null && isAtlassianCloudHost(confluenceUrl)) {
      throw new ConfigError(
        'CONFLUENCE_DEPLOYMENT',
        `is datacenter, but CONFLUENCE_URL ${confluenceUrl} is an Atlassian Cloud site; unset CONFLUENCE_DEPLOYMENT (cloud), or point CONFLUENCE_URL at the Data Center base URL`,
      );
    }
  }
  if (!useMockData) {
    if (confluenceUrlRaw === null) {
      throw new ConfigError(
        'CONFLUENCE_URL',
        deployment === 'cloud'
          ? 'is required (e.g. https://example.atlassian.net), or set USE_MOCK_DATA=true'
          : 'is required: the Data Center base URL with any context path (e.g. https://wiki.example.com/confluence), or set USE_MOCK_DATA=true',
      );
    }
    if (pageRefs.length === 0 && cql === null) {
      throw new ConfigError(
        'RESTRICTED_INSTRUMENTS_PAGE_URL',
        'is required: the link (or page id) of the restricted instruments page, or set RESTRICTED_INSTRUMENTS_CQL',
      );
    }
    if (username === null && scopedToken) {
      throw new ConfigError(
        'CONFLUENCE_USERNAME',
        "is required with CONFLUENCE_API_TOKEN_SCOPED=true: the service account's e-mail (a scoped token goes as basic auth, e-mail and token)",
      );
    }
    // Data Center without a username sends the token as a personal access token.
    if (username === null && deployment === 'cloud')
      throw new ConfigError('CONFLUENCE_USERNAME', 'is required: the Atlassian account e-mail');
    if (apiToken === null) {
      throw new ConfigError(
        'CONFLUENCE_API_TOKEN',
        deployment === 'cloud'
          ? 'is required (or CONFLUENCE_API_TOKEN_FILE): an Atlassian API token'
          : "is required (or CONFLUENCE_API_TOKEN_FILE): a Data Center personal access token, or CONFLUENCE_USERNAME's password",
      );
    }
  }
  const pages = pageRefs.map((ref) => {
    try {
      return parsePageRef(ref);
    } catch (error) {
      if (error instanceof PageRefError)
        throw new ConfigError('RESTRICTED_INSTRUMENTS_PAGE_URL', error.message);
      throw error;
    }
  });

  const syncIntervalMinutes = integer(env, 'RESTRICTED_LIST_SYNC_INTERVAL_MINUTES', 60, 1, 7 * 24 * 60);
  const staleAfterMinutes = integer(
    env,
    'RESTRICTED_LIST_STALE_AFTER_MINUTES',
    3 * syncIntervalMinutes,
    1,
    30 * 24 * 60,
  );
  const maxRemovalPercent = integer(env, 'RESTRICTED_LIST_MAX_REMOVAL_PERCENT', 25, 0, 100);
  const watchSeconds = integer(env, 'RESTRICTED_LIST_WATCH_SECONDS', 30, 0, 24 * 60 * 60);

  const databaseUrl = loadDatabaseUrl(env);

  const temporalAddress = optional(env, 'TEMPORAL_ADDRESS');
  if (temporalAddress !== null && !/^[\w.-]+:\d+$/.test(temporalAddress)) {
    throw new ConfigError('TEMPORAL_ADDRESS', `must be host:port, got "${temporalAddress}"`);
  }
  const uiUrl = optional(env, 'TEMPORAL_UI_URL') ?? 'http://localhost:8233';
  httpUrl('TEMPORAL_UI_URL', uiUrl);

  const readTokens = tokens(env, 'API_READ_TOKENS');
  const adminTokens = tokens(env, 'API_ADMIN_TOKENS');
  if (nodeEnv === 'production') {
    if (readTokens.length === 0) throw new ConfigError('API_READ_TOKENS', 'is required in production');
    if (adminTokens.length === 0) throw new ConfigError('API_ADMIN_TOKENS', 'is required in production');
  }

  return Object.freeze({
    nodeEnv,
    confluence: Object.freeze({
      deployment,
      url: confluenceUrl,
      username,
      apiToken,
      scopedToken,
      cloudId,
      apiGatewayUrl,
    }),
    pageRefs: Object.freeze(pageRefs),
    pages: Object.freeze(pages),
    cql,
    syncIntervalMinutes,
    staleAfterMinutes,
    maxRemovalPercent,
    watchSeconds,
    useMockData,
    mockDataPath: optional(env, 'MOCK_DATA_PATH') ?? DEFAULT_MOCK_DATA_PATH,
    databaseUrl,
    temporal: Object.freeze({
      address: temporalAddress ?? 'localhost:7233',
      addressIsExplicit: temporalAddress !== null,
      namespace: optional(env, 'TEMPORAL_NAMESPACE') ?? 'default',
      taskQueue: optional(env, 'TEMPORAL_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
      uiUrl: uiUrl.replace(/\/+$/, ''),
    }),
    port: integer(env, 'PORT', 3000, 0, 65535),
    readTokens: Object.freeze(readTokens),
    adminTokens: Object.freeze(adminTokens),
  });
}

/** `.env` is read when present; the real environment wins over it. */
export function loadDotEnv(path = '.env'): void {
  try {
    process.loadEnvFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
