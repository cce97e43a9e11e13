import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

const base = {
  CONFLUENCE_URL: 'https://example.atlassian.net/wiki/',
  CONFLUENCE_USERNAME: 'bot@example.com',
  CONFLUENCE_API_TOKEN: 'token-value-123',
  RESTRICTED_INSTRUMENTS_PAGE_URL:
    'https://example.atlassian.net/wiki/spaces/COMP/pages/123456/Restricted+List',
};

/** Data Center with basic auth; without CONFLUENCE_USERNAME the token is a personal access token. */
const datacenter = {
  CONFLUENCE_DEPLOYMENT: 'datacenter',
  CONFLUENCE_URL: 'https://wiki.example.com/confluence/',
  CONFLUENCE_USERNAME: 'compliance-bot',
  CONFLUENCE_API_TOKEN: 'password-value-123',
  RESTRICTED_INSTRUMENTS_PAGE_URL: 'https://wiki.example.com/confluence/pages/viewpage.action?pageId=123456',
};

/** A token file as a secrets mount provides it, with a trailing newline. */
function tokenFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rls-config-')), 'token');
  writeFileSync(file, 'secret-from-file\n');
  return file;
}

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      syncIntervalMinutes: 60,
      staleAfterMinutes: 180,
      maxRemovalPercent: 25,
      useMockData: false,
      databaseUrl: null,
      port: 3000,
      temporal: {
        address: 'localhost:7233',
        namespace: 'default',
        taskQueue: 'restricted-list-sync',
        uiUrl: 'http://localhost:8233',
      },
    });
    expect(config.pages).toEqual([{ kind: 'id', id: '123456' }]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('drops a trailing /wiki from CONFLUENCE_URL (the client adds it)', () => {
    expect(loadConfig(base).confluence.url).toBe('https://example.atlassian.net');
  });

  it('derives the staleness threshold from the interval', () => {
    expect(loadConfig({ ...base, RESTRICTED_LIST_SYNC_INTERVAL_MINUTES: '15' }).staleAfterMinutes).toBe(45);
  });

  it.each([
    [{ RESTRICTED_LIST_SYNC_INTERVAL_MINUTES: 'hourly' }, 'RESTRICTED_LIST_SYNC_INTERVAL_MINUTES'],
    [{ RESTRICTED_LIST_SYNC_INTERVAL_MINUTES: '1.5' }, 'RESTRICTED_LIST_SYNC_INTERVAL_MINUTES'],
    [{ RESTRICTED_LIST_MAX_REMOVAL_PERCENT: '150' }, 'RESTRICTED_LIST_MAX_REMOVAL_PERCENT'],
    [{ CONFLUENCE_URL: 'not a url' }, 'CONFLUENCE_URL'],
    [{ CONFLUENCE_URL: '' }, 'CONFLUENCE_URL'],
    [{ CONFLUENCE_API_TOKEN: '' }, 'CONFLUENCE_API_TOKEN'],
    [
      { RESTRICTED_INSTRUMENTS_PAGE_URL: 'https://example.atlassian.net/wiki/home' },
      'RESTRICTED_INSTRUMENTS_PAGE_URL',
    ],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ USE_MOCK_DATA: 'maybe' }, 'USE_MOCK_DATA'],
    [{ PORT: '70000' }, 'PORT'],
    [{ TEMPORAL_ADDRESS: 'http://localhost:7233' }, 'TEMPORAL_ADDRESS'],
  ])('rejects %o with one line naming %s', (override, variable) => {
    const error = errorOf({ ...base, ...override });
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).not.toContain('\n');
  });

  it('reads the token from CONFLUENCE_API_TOKEN_FILE and never puts it in an error', () => {
    const file = tokenFile();
    const { CONFLUENCE_API_TOKEN: _omit, ...rest } = base;
    expect(loadConfig({ ...rest, CONFLUENCE_API_TOKEN_FILE: file }).confluence.apiToken).toBe(
      'secret-from-file',
    );
    const error = errorOf({ ...base, CONFLUENCE_API_TOKEN_FILE: file });
    expect(error.message).not.toContain('token-value-123');
    expect(error.message).not.toContain('secret-from-file');
  });

  it('reads CONFLUENCE_API_TOKEN_FILE on every flavour', () => {
    const file = tokenFile();
    const { CONFLUENCE_API_TOKEN: _omit, ...rest } = base;
    const flavours = [
      rest,
      { ...rest, CONFLUENCE_API_TOKEN_SCOPED: 'true' },
      { ...datacenter, CONFLUENCE_USERNAME: '' },
      datacenter,
    ];
    for (const env of flavours) {
      const { CONFLUENCE_API_TOKEN: _token, ...withoutToken } = env as Record<string, string>;
      expect(loadConfig({ ...withoutToken, CONFLUENCE_API_TOKEN_FILE: file }).confluence.apiToken).toBe(
        'secret-from-file',
      );
    }
  });

  it('needs no Confluence settings with USE_MOCK_DATA', () => {
    const config = loadConfig({ USE_MOCK_DATA: 'true' });
    expect(config.useMockData).toBe(true);
    expect(config.mockDataPath).toMatch(/test\/data\/restricted_instruments\.json$/);
  });

  it('refuses to start in production without API tokens or DATABASE_URL', () => {
    const production = { ...base, NODE_ENV: 'production', DATABASE_URL: 'postgres://db/rls' };
    expect(errorOf(production).variable).toBe('API_READ_TOKENS');
    expect(errorOf({ ...production, API_READ_TOKENS: 'r'.repeat(32) }).variable).toBe('API_ADMIN_TOKENS');
    const withTokens = {
      ...production,
      API_READ_TOKENS: 'r'.repeat(32),
      API_ADMIN_TOKENS: `alice=${'a'.repeat(32)}`,
    };
    expect(loadConfig(withTokens).adminTokens).toEqual([{ name: 'alice', token: 'a'.repeat(32) }]);
    const { DATABASE_URL: _db, ...noDb } = withTokens;
    expect(errorOf(noDb).variable).toBe('DATABASE_URL');
  });
});

describe('loadConfig: Confluence flavours', () => {
  it('defaults to Cloud with a classic token through the site', () => {
    expect(loadConfig(base).confluence).toEqual({
      deployment: 'cloud',
      url: 'https://example.atlassian.net',
      username: 'bot@example.com',
      apiToken: 'token-value-123',
      scopedToken: false,
      cloudId: null,
      apiGatewayUrl: 'https://api.atlassian.com',
    });
  });

  it('reads a scoped token, with the cloud id set or left to be discovered', () => {
    const scoped = loadConfig({ ...base, CONFLUENCE_API_TOKEN_SCOPED: 'true' }).confluence;
    expect(scoped).toMatchObject({ scopedToken: true, cloudId: null, url: 'https://example.atlassian.net' });
    const cloudId = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const pinned = loadConfig({
      ...base,
      CONFLUENCE_API_TOKEN_SCOPED: 'true',
      CONFLUENCE_CLOUD_ID: cloudId,
      CONFLUENCE_API_GATEWAY_URL: 'http://127.0.0.1:8080/',
    }).confluence;
    expect(pinned).toMatchObject({ cloudId, apiGatewayUrl: 'http://127.0.0.1:8080' });
  });

  it('keeps the Data Center context path, even one named /wiki', () => {
    expect(loadConfig(datacenter).confluence).toMatchObject({
      deployment: 'datacenter',
      url: 'https://wiki.example.com/confluence',
      username: 'compliance-bot',
    });
    expect(
      loadConfig({ ...datacenter, CONFLUENCE_URL: 'https://intranet.example.com/wiki/' }).confluence.url,
    ).toBe('https://intranet.example.com/wiki');
  });

  it('takes a Data Center personal access token without a username', () => {
    const { CONFLUENCE_USERNAME: _omit, ...pat } = datacenter;
    expect(loadConfig(pat).confluence).toMatchObject({ username: null, apiToken: 'password-value-123' });
  });

  it.each([
    [
      { ...datacenter, CONFLUENCE_DEPLOYMENT: 'server-9' },
      'CONFLUENCE_DEPLOYMENT',
      /must be cloud .* or datacenter/,
    ],
    [
      { ...datacenter, CONFLUENCE_URL: 'https://example.atlassian.net/wiki' },
      'CONFLUENCE_DEPLOYMENT',
      /is datacenter, but CONFLUENCE_URL https:\/\/example\.atlassian\.net\/wiki is an Atlassian Cloud site/,
    ],
    [
      { ...datacenter, CONFLUENCE_API_TOKEN_SCOPED: 'true' },
      'CONFLUENCE_API_TOKEN_SCOPED',
      /only on Atlassian Cloud/,
    ],
    [
      { ...base, CONFLUENCE_API_TOKEN_SCOPED: 'true', CONFLUENCE_USERNAME: '' },
      'CONFLUENCE_USERNAME',
      /is required with CONFLUENCE_API_TOKEN_SCOPED=true/,
    ],
    [{ ...base, CONFLUENCE_API_TOKEN_SCOPED: 'perhaps' }, 'CONFLUENCE_API_TOKEN_SCOPED', /true or false/],
    [
      { ...base, CONFLUENCE_API_GATEWAY_URL: 'api.atlassian.com' },
      'CONFLUENCE_API_GATEWAY_URL',
      /not a valid URL/,
    ],
    [{ ...base, CONFLUENCE_API_GATEWAY_URL: 'ftp://gateway' }, 'CONFLUENCE_API_GATEWAY_URL', /http\(s\) URL/],
    [{ ...base, CONFLUENCE_CLOUD_ID: 'my-site' }, 'CONFLUENCE_CLOUD_ID', /a UUID/],
    [{ ...datacenter, CONFLUENCE_API_TOKEN: '' }, 'CONFLUENCE_API_TOKEN', /personal access token/],
    [
      { ...datacenter, CONFLUENCE_URL: 'wiki.example.com' },
      'CONFLUENCE_URL',
      /wiki\.example\.com\/confluence/,
    ],
  ])('rejects %o with one line naming %s', (env, variable, message) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });
});

describe('CONFIG_VARIABLES', () => {
  it('is exactly what loadConfig reads', async () => {
    const { CONFIG_VARIABLES, SECRET_VARIABLES } = await import('../src/config.ts');
    const read = new Set<string>();
    const env = new Proxy({ ...base, USE_MOCK_DATA: 'false' } as Record<string, string>, {
      get(target, key: string) {
        read.add(key);
        return target[key];
      },
    });
    loadConfig(env);
    const expected = new Set<string>([
      ...CONFIG_VARIABLES,
      ...SECRET_VARIABLES.map((name) => `${name}_FILE`),
    ]);
    expect([...read].filter((key) => !expected.has(key))).toEqual([]);
    expect(CONFIG_VARIABLES.filter((key) => !read.has(key))).toEqual([]);
  });
});
