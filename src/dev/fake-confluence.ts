import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeTinyLinkCode } from '../confluence/page-ref.ts';

/**
 * A real HTTP server that answers the Confluence REST API paths our clients call, with the real
 * APIs' response shapes, status codes, headers and pagination, in each flavour the service
 * supports. Tests and `npm run dev` point the service at it (`fake.env`); confluence.js and our
 * Data Center client talk to it over the wire like to the real thing.
 *
 * - `cloud`: an Atlassian Cloud site with a classic API token (basic auth, e-mail and token).
 *   v2 `GET /wiki/api/v2/pages/{id}`, `GET /wiki/api/v2/pages?id=…`, `GET /wiki/api/v2/spaces?keys=…`,
 *   `GET /wiki/api/v2/spaces/{id}/pages`, `POST /wiki/api/v2/users-bulk`; v1
 *   `GET /wiki/rest/api/content/search?cql=…` (cursor pagination); tiny links `/wiki/x/CODE` (302 to
 *   the page); `GET /_edge/tenant_info` (the cloud id, unauthenticated).
 * - `cloud-scoped`: the same site, but the token is a scoped one: the site refuses it (401 "scope
 *   does not match") and the API gateway, a second server at `gatewayUrl`, answers the same paths
 *   under `/ex/confluence/{cloudId}` — when the token holds the scope each call needs.
 * - `datacenter`: Confluence Data Center under a context path (default `/confluence`): REST v1
 *   `GET {ctx}/rest/api/content/{id}?expand=…`, `GET {ctx}/rest/api/content?spaceKey=…&type=page`,
 *   `GET {ctx}/rest/api/content/search?cql=…` and `GET {ctx}/rest/api/space/{key}` with start/limit
 *   pagination and `_links.next`; tiny links `{ctx}/x/CODE`; a personal access token as a bearer
 *   token, or username and password as basic auth; DC's error bodies; 429s carry `Retry-After` and
 *   `X-RateLimit-*` as DC's rate limiter sends them.
 *
 * CQL: a subset (`type`, `space`, `title`, `label`, `id` with `=` joined by `and`, and `id in (…)`).
 *
 * Tests steer it two ways. `fail(fault)` answers the next matching requests with a canned failure
 * (or a delay). `hold({ pathIncludes, kind })` closes a gate: every matching request is held
 * unanswered until `release()`, and `arrived` resolves when the first one comes in — so a test can
 * keep a run inside a step for exactly as long as it needs, instead of guessing a delay. `release()`
 * answers every held request whose client is still connected (one whose client died is dropped)
 * and opens the gate for good: later requests pass, so a retried attempt is answered whether it
 * arrives before or after the release. Every request is recorded with what it asked for (`kind`),
 * whichever flavour's path it took, so one test can count the same thing on every flavour.
 */
export type FakeFlavour = 'cloud' | 'cloud-scoped' | 'datacenter';
export const FAKE_FLAVOURS: readonly FakeFlavour[] = ['cloud', 'cloud-scoped', 'datacenter'];

export interface FakePage {
  id: string;
  spaceKey: string;
  title: string;
  storage: string;
  version: number;
  labels: string[];
  authorId: string;
  updatedAt: string;
}

/**
 * What a request asked for, the same on every flavour: one page with its body, the versions of
 * named pages (no body), a CQL search, a space or its page list, a user lookup, a tiny link, the
 * cloud id.
 */
export type RequestKind =
  'page' | 'versions' | 'search' | 'space' | 'user' | 'tiny-link' | 'tenant-info' | 'other';

/** A canned failure for the next matching requests (status, headers, body as the real API sends them). */
export interface FakeFault {
  /** HTTP status to answer with; omit with `reset` or `truncate`. */
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many requests it answers; default 1. */
  times?: number;
  /** Only requests whose path (with query) contains this. */
  pathIncludes?: string;
  /** Only requests of this kind (or these kinds). */
  kind?: RequestKind | readonly RequestKind[];
  /** Wait this long before answering (normally) — a slow server. */
  delayMs?: number;
  /** Drop the connection without answering. */
  reset?: boolean;
  /** Send the headers and half the body, then drop the connection. */
  truncate?: boolean;
}

/** A closed gate: see `FakeConfluence.hold`. */
export interface FakeGate {
  /** Resolves when the first matching request arrives (and is being held). */
  readonly arrived: Promise<void>;
  /** Answers every held request and lets all later ones through; calling it again does nothing. */
  release(): void;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as received (gateway requests start with `/ex/confluence/{cloudId}`). */
  path: string;
  authorized: boolean;
  kind: RequestKind;
  /** Which server took it: the site (Cloud or Data Center) or the API gateway. */
  via: 'site' | 'gateway';
  /** Gateway requests: the granular scope the call needs. */
  scope: string | null;
  /** When it arrived (epoch ms). */
  at: number;
}

/** Every link form of one page, as that flavour shows them. */
export interface PageLinks {
  id: string;
  /** `…/spaces/KEY/pages/ID/Title` */
  spaces: string;
  /** `…/pages/viewpage.action?pageId=ID` */
  viewpage: string;
  /** `…/x/CODE` */
  tiny: string;
  /** `…/display/KEY/Title` (resolved by title) */
  display: string;
}

export interface FakeConfluence {
  readonly flavour: FakeFlavour;
  /** What CONFLUENCE_URL should be: the Cloud site, or the Data Center base URL with its context path. */
  readonly url: string;
  /** cloud-scoped: the API gateway's base URL (CONFLUENCE_API_GATEWAY_URL). */
  readonly gatewayUrl: string | null;
  /** Cloud: the site's cloud id (published at `/_edge/tenant_info`). */
  readonly cloudId: string;
  /** The account the fake accepts (Cloud: an e-mail; Data Center: a username). */
  readonly username: string;
  /** The token it accepts (Cloud: API token; Data Center: the PAT, or the user's password). */
  readonly apiToken: string;
  /** The environment a service needs to talk to this fake (the Confluence variables only). */
  readonly env: Record<string, string>;
  readonly requests: RecordedRequest[];
  /** Creates the page or saves a new version of it. */
  putPage(page: {
    id: string;
    title: string;
    storage: string;
    spaceKey?: string;
    labels?: string[];
    authorName?: string;
    /** Data Center: the editor's username (else derived from the name); alone, the user has no display name. */
    authorUsername?: string;
  }): FakePage;
  deletePage(id: string): void;
  page(id: string): FakePage | undefined;
  /** The page's URL as Confluence shows it (and as `getPage` reports it). */
  pageUrl(id: string): string;
  tinyLink(id: string): string;
  displayUrl(id: string): string;
  links(id: string): PageLinks;
  fail(fault: FakeFault): void;
  /** Holds matching requests (all, without a filter) unanswered until the gate is released. */
  hold(options?: { pathIncludes?: string; kind?: RequestKind | readonly RequestKind[] }): FakeGate;
  /** Stop accepting the current credentials (a revoked token). */
  revokeToken(): void;
  close(): Promise<void>;
}

export interface FakeConfluenceOptions {
  flavour?: FakeFlavour;
  /** Data Center: the context path (default `/confluence`; `''` for none). */
  contextPath?: string;
  /** Data Center: what `env` configures — a personal access token (default) or username and password. */
  auth?: 'pat' | 'basic';
  username?: string;
  apiToken?: string;
  /** cloud-scoped: the scopes the token holds (default: every scope the gateway's paths need). */
  scopes?: readonly string[];
  port?: number;
}

const SPACES: Record<string, { id: string; name: string }> = {
  COMP: { id: '98304', name: 'Compliance' },
  ENG: { id: '98305', name: 'Engineering' },
};
const ERROR_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * The granular scope each gateway path needs, as Atlassian documents it (v1 search also takes the
 * classic `search:confluence`).
 */
const GATEWAY_SCOPES: { method: string; path: RegExp; scope: string; classic?: string }[] = [
  { method: 'GET', path: /^\/wiki\/api\/v2\/pages(\/\d+)?$/, scope: 'read:page:confluence' },
  { method: 'GET', path: /^\/wiki\/api\/v2\/spaces\/\d+\/pages$/, scope: 'read:page:confluence' },
  { method: 'GET', path: /^\/wiki\/api\/v2\/spaces$/, scope: 'read:space:confluence' },
  { method: 'POST', path: /^\/wiki\/api\/v2\/users-bulk$/, scope: 'read:user:confluence' },
  {
    method: 'GET',
    path: /^\/wiki\/rest\/api\/content\/search$/,
    scope: 'read:content-details:confluence',
    classic: 'search:confluence',
  },
];
const ALL_GATEWAY_SCOPES = [...new Set(GATEWAY_SCOPES.map((entry) => entry.scope))];

/** The v2 API's error body. */
function v2ErrorBody(status: number): unknown {
  const title = ERROR_TITLES[status] ?? 'Error';
  return { errors: [{ status, code: title.toUpperCase().replaceAll(' ', '_'), title, detail: null }] };
}

/** The v1 API's error body (Cloud and Data Center alike; DC adds `allowedInReadOnlyMode`). */
function v1ErrorBody(status: number, message: string, datacenter = false): unknown {
  return {
    statusCode: status,
    data: {
      authorized: status !== 401,
      valid: true,
      ...(datacenter ? { allowedInReadOnlyMode: true } : {}),
      errors: [],
      successful: false,
    },
    message,
    reason: ERROR_TITLES[status] ?? 'Error',
  };
}

/** The gateway's own answers (before Confluence sees the request). */
const gatewayError = (status: number, message: string) => ({ code: status, message });

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const encodeCursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');
const decodeCursor = (cursor: string | null) =>
  cursor === null ? 0 : Number(Buffer.from(cursor, 'base64url').toString().split(':')[1] ?? 0);

/** One page of a list, with the `_links.next` and `Link` header the Cloud API sends (cursor). */
function paginate<T>(items: T[], url: URL, maxLimit: number, defaultLimit: number) {
  const limit = Math.min(Number(url.searchParams.get('limit') ?? defaultLimit) || defaultLimit, maxLimit);
  const offset = decodeCursor(url.searchParams.get('cursor'));
  const slice = items.slice(offset, offset + limit);
  let next: string | undefined;
  if (offset + limit < items.length) {
    const nextUrl = new URL(url.href);
    nextUrl.searchParams.set('cursor', encodeCursor(offset + limit));
    nextUrl.searchParams.set('limit', String(limit));
    next = `${nextUrl.pathname.replace(/^\/wiki/, '')}${nextUrl.search}`;
  }
  return { slice, next, limit, offset };
}

/**
 * One page of a Data Center list: start/limit, and a `_links.next` relative to `_links.base`
 * (the context path is in the base, not in the link).
 */
function paginateDc<T>(items: T[], url: URL, apiPath: string, maxLimit: number, defaultLimit: number) {
  const limit = Math.min(Number(url.searchParams.get('limit') ?? defaultLimit) || defaultLimit, maxLimit);
  const start = Math.max(0, Number(url.searchParams.get('start') ?? 0) || 0);
  const slice = items.slice(start, start + limit);
  let next: string | undefined;
  if (start + limit < items.length) {
    const params = new URLSearchParams(url.searchParams);
    params.set('limit', String(limit));
    params.set('start', String(start + limit));
    next = `${apiPath}?${params}`;
  }
  return { slice, next, limit, start };
}

/** The subset of CQL that list pages are selected with. */
function cqlMatches(cql: string, page: FakePage): boolean {
  const clauses = cql.split(/\s+and\s+/i);
  return clauses.every((clause) => {
    const list = /^\s*id\s+in\s*\(([^)]*)\)\s*$/i.exec(clause);
    if (list) {
      const ids = list[1]!.split(',').map((id) => id.trim().replace(/^"(.*)"$/, '$1'));
      return ids.includes(page.id);
    }
    const match = /^\s*(type|space|title|label|id)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/i.exec(clause);
    if (!match) throw new Error(`unsupported CQL clause: ${clause}`);
    const field = match[1]!.toLowerCase();
    const value = (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1');
    switch (field) {
      case 'type':
        return value === 'page';
      case 'space':
        return page.spaceKey === value;
      case 'title':
        return page.title === value;
      case 'label':
        return page.labels.includes(value);
      default:
        return page.id === value;
    }
  });
}

const isVersionsCql = (cql: string | null) => cql !== null && /^\s*id\s+in\s*\(/i.test(cql);

/** What a request asks for, from its path below `/wiki` (Cloud) or the context path (Data Center). */
function kindOf(apiPath: string, url: URL, datacenter: boolean): RequestKind {
  if (/^\/x\/[^/]+$/.test(apiPath)) return 'tiny-link';
  if (datacenter) {
    if (apiPath === '/rest/api/content/search')
      return isVersionsCql(url.searchParams.get('cql')) ? 'versions' : 'search';
    if (/^\/rest\/api\/content\/\d+$/.test(apiPath)) return 'page';
    if (apiPath === '/rest/api/content' || apiPath.startsWith('/rest/api/space')) return 'space';
    return 'other';
  }
  if (/^\/api\/v2\/pages\/\d+$/.test(apiPath)) return 'page';
  if (apiPath === '/api/v2/pages') return 'versions';
  if (apiPath === '/rest/api/content/search') return 'search';
  if (apiPath.startsWith('/api/v2/spaces')) return 'space';
  if (apiPath === '/api/v2/users-bulk') return 'user';
  return 'other';
}

const slug = (title: string) => encodeURIComponent(title.replaceAll(' ', '+'));
const displaySlug = (title: string) => encodeURIComponent(title).replaceAll('%20', '+');

export async function startFakeConfluence(options: FakeConfluenceOptions = {}): Promise<FakeConfluence> {
  const flavour = options.flavour ?? 'cloud';
  const datacenter = flavour === 'datacenter';
  const scopedToken = flavour === 'cloud-scoped';
  const context = datacenter ? (options.contextPath ?? '/confluence').replace(/\/+$/, '') : '';
  const dcAuth = options.auth ?? 'pat';
  const username = options.username ?? (datacenter ? 'compliance-bot' : 'compliance-bot@example.com');
  let apiToken =
    options.apiToken ??
    (datacenter
      ? dcAuth === 'pat'
        ? 'fake-datacenter-personal-access-token'
        : 'fake-datacenter-password'
      : 'fake-confluence-token-for-tests');
  const scopes = new Set(options.scopes ?? ALL_GATEWAY_SCOPES);
  const cloudId = randomUUID();
  const pages = new Map<string, FakePage>();
  const users = new Map<string, { displayName: string | null; username: string }>([
    ['557058:compliance-officer', { displayName: 'Compliance Officer', username: 'compliance.officer' }],
  ]);
  const faults: FakeFault[] = [];
  const gates: {
    pathIncludes: string | undefined;
    kind: RequestKind | readonly RequestKind[] | undefined;
    held: (() => void)[];
    arrive: () => void;
  }[] = [];
  const requests: RecordedRequest[] = [];
  let origin = '';
  let gatewayOrigin: string | null = null;
  /** Cloud: the site URL; Data Center: the base URL with the context path. */
  let url = '';

  const basic = (user: string, secret: string) =>
    `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
  /** Data Center takes a PAT as a bearer token, or the user's password as basic auth. */
  const isAuthorized = (req: IncomingMessage) =>
    datacenter && dcAuth === 'pat'
      ? req.headers.authorization === `Bearer ${apiToken}`
      : req.headers.authorization === basic(username, apiToken);

  const userOf = (authorId: string) => users.get(authorId) ?? { displayName: authorId, username: authorId };

  const webui = (page: FakePage) =>
    datacenter
      ? `/pages/viewpage.action?pageId=${page.id}`
      : `/spaces/${page.spaceKey}/pages/${page.id}/${slug(page.title)}`;

  function pageSummary(page: FakePage, includeBody: boolean) {
    return {
      id: page.id,
      status: 'current',
      title: page.title,
      spaceId: SPACES[page.spaceKey]?.id ?? '98399',
      parentId: null,
      parentType: null,
      position: 0,
      authorId: page.authorId,
      ownerId: page.authorId,
      lastOwnerId: null,
      createdAt: page.updatedAt,
      version: {
        createdAt: page.updatedAt,
        message: '',
        number: page.version,
        minorEdit: false,
        authorId: page.authorId,
      },
      ...(includeBody ? { body: { storage: { representation: 'storage', value: page.storage } } } : {}),
      _links: {
        editui: `/pages/resumedraft.action?draftId=${page.id}`,
        webui: webui(page),
        tinyui: `/x/${encodeTinyLinkCode(page.id)}`,
      },
    };
  }

  /** Who saved a version, as each v1 API says it: Cloud by account id, Data Center by username and key. */
  function versionBy(authorId: string) {
    const user = userOf(authorId);
    if (!datacenter) {
      return {
        type: 'known',
        accountId: authorId,
        accountType: 'atlassian',
        displayName: user.displayName ?? authorId,
        publicName: user.displayName ?? authorId,
      };
    }
    const userKey = createHash('sha1').update(user.username).digest('hex').slice(0, 32);
    return {
      type: 'known',
      username: user.username,
      userKey,
      profilePicture: {
        path: `${context}/images/icons/profilepics/default.svg`,
        width: 48,
        height: 48,
        isDefault: true,
      },
      ...(user.displayName === null ? {} : { displayName: user.displayName }),
      _links: { self: `${url}/rest/api/user?key=${userKey}` },
      _expandable: { status: '' },
    };
  }

  function contentV1(page: FakePage, expand: string[]) {
    return {
      id: page.id,
      type: 'page',
      status: 'current',
      title: page.title,
      ...(expand.includes('space')
        ? {
            space: {
              id: Number(SPACES[page.spaceKey]?.id ?? 98399),
              key: page.spaceKey,
              name: SPACES[page.spaceKey]?.name ?? page.spaceKey,
              type: 'global',
              status: 'current',
            },
          }
        : {}),
      ...(expand.some((e) => e.startsWith('version'))
        ? {
            version: {
              by: versionBy(page.authorId),
              when: page.updatedAt,
              ...(datacenter ? { message: '' } : {}),
              number: page.version,
              minorEdit: false,
              ...(datacenter ? { hidden: false } : {}),
            },
          }
        : {}),
      ...(expand.includes('body.storage')
        ? { body: { storage: { value: page.storage, representation: 'storage' } } }
        : {}),
      _links: {
        webui: webui(page),
        ...(datacenter ? { edit: `/pages/resumedraft.action?draftId=${page.id}` } : {}),
        self: datacenter ? `${url}/rest/api/content/${page.id}` : `${url}/wiki/rest/api/content/${page.id}`,
        tinyui: `/x/${encodeTinyLinkCode(page.id)}`,
      },
      _expandable: {},
    };
  }

  const listParam = (requestUrl: URL, name: string) =>
    requestUrl.searchParams
      .getAll(name)
      .flatMap((value) => value.split(','))
      .filter((value) => value !== '');

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  const tinyLinkTarget = (code: string) => [...pages.values()].find((p) => encodeTinyLinkCode(p.id) === code);

  /** The Cloud REST API below `/wiki`, on the site or behind the gateway. */
  async function routeCloud(
    req: IncomingMessage,
    res: ServerResponse,
    requestUrl: URL,
    apiPath: string,
  ): Promise<void> {
    const isV1 = apiPath.startsWith('/rest/api/');
    const notFound = () => sendJson(res, 404, isV1 ? v1ErrorBody(404, 'No content found') : v2ErrorBody(404));
    let match: RegExpExecArray | null;
    if (req.method === 'GET' && (match = /^\/api\/v2\/pages\/(\d+)$/.exec(apiPath))) {
      const page = pages.get(match[1]!);
      if (!page) return notFound();
      return sendJson(res, 200, pageSummary(page, requestUrl.searchParams.get('body-format') === 'storage'));
    }

    if (req.method === 'GET' && apiPath === '/api/v2/pages') {
      const ids = listParam(requestUrl, 'id');
      const selected = [...pages.values()].filter((page) => ids.length === 0 || ids.includes(page.id));
      const { slice, next } = paginate(selected, requestUrl, 250, 25);
      return sendJson(
        res,
        200,
        {
          results: slice.map((page) => pageSummary(page, false)),
          _links: { ...(next ? { next } : {}), base: `${url}/wiki` },
        },
        next ? { link: `<${next}>; rel="next"` } : {},
      );
    }

    if (req.method === 'GET' && apiPath === '/api/v2/spaces') {
      const keys = listParam(requestUrl, 'keys');
      const results = Object.entries(SPACES)
        .filter(([key]) => keys.length === 0 || keys.includes(key))
        .map(([key, space]) => ({ id: space.id, key, name: space.name, type: 'global', status: 'current' }));
      return sendJson(res, 200, { results, _links: { base: `${url}/wiki` } });
    }

    if (req.method === 'GET' && (match = /^\/api\/v2\/spaces\/(\d+)\/pages$/.exec(apiPath))) {
      const spaceKey = Object.entries(SPACES).find(([, space]) => space.id === match![1])?.[0];
      if (!spaceKey) return notFound();
      const inSpace = [...pages.values()].filter((page) => page.spaceKey === spaceKey);
      const { slice, next } = paginate(inSpace, requestUrl, 250, 25);
      return sendJson(res, 200, {
        results: slice.map((page) => pageSummary(page, false)),
        _links: { ...(next ? { next } : {}), base: `${url}/wiki` },
      });
    }

    if (req.method === 'POST' && apiPath === '/api/v2/users-bulk') {
      const { accountIds = [] } = JSON.parse((await readBody(req)) || '{}') as { accountIds?: string[] };
      const results = accountIds
        .filter((id) => users.has(id))
        .map((id) => ({
          accountId: id,
          accountType: 'atlassian',
          accountStatus: 'active',
          displayName: userOf(id).displayName ?? id,
          publicName: userOf(id).displayName ?? id,
        }));
      return sendJson(res, 200, { results, _links: { base: `${url}/wiki` } });
    }

    if (req.method === 'GET' && apiPath === '/rest/api/content/search') {
      const cql = requestUrl.searchParams.get('cql') ?? '';
      let matched: FakePage[];
      try {
        matched = [...pages.values()].filter((page) => cqlMatches(cql, page));
      } catch (error) {
        return sendJson(res, 400, v1ErrorBody(400, `Could not parse cql : ${(error as Error).message}`));
      }
      const expand = listParam(requestUrl, 'expand');
      // Like Confluence Cloud: at most 100 results a request, more pages through the cursor.
      const { slice, next, limit, offset } = paginate(matched, requestUrl, 100, 25);
      return sendJson(res, 200, {
        results: slice.map((page) => contentV1(page, expand)),
        start: offset,
        limit,
        size: slice.length,
        _links: { base: `${url}/wiki`, context: '/wiki', ...(next ? { next } : {}) },
      });
    }

    notFound();
  }

  /** The Data Center REST API below the context path. */
  function routeDatacenter(
    req: IncomingMessage,
    res: ServerResponse,
    requestUrl: URL,
    apiPath: string,
  ): void {
    const links = { base: url, context };
    const expand = listParam(requestUrl, 'expand');
    /** One page of content results as Data Center pages them; `extra` fields follow `size`. */
    const sendContentResults = (
      found: FakePage[],
      maxLimit: number,
      self: string,
      extra: Record<string, unknown> = {},
    ) => {
      const { slice, next, limit, start } = paginateDc(found, requestUrl, apiPath, maxLimit, 25);
      return sendJson(res, 200, {
        results: slice.map((page) => contentV1(page, expand)),
        start,
        limit,
        size: slice.length,
        ...extra,
        _links: { self, ...(next ? { next } : {}), ...links },
      });
    };
    let match: RegExpExecArray | null;
    if (req.method === 'GET' && (match = /^\/rest\/api\/content\/(\d+)$/.exec(apiPath))) {
      const page = pages.get(match[1]!);
      if (!page) {
        return sendJson(
          res,
          404,
          v1ErrorBody(404, `No content found with id: ContentId{id=${match[1]}}`, true),
        );
      }
      const body = contentV1(page, expand);
      return sendJson(res, 200, { ...body, _links: { ...body._links, ...links } });
    }

    if (req.method === 'GET' && apiPath === '/rest/api/content/search') {
      const cql = requestUrl.searchParams.get('cql');
      if (!cql) {
        return sendJson(res, 400, v1ErrorBody(400, 'CQL query parameter is required but was empty', true));
      }
      let matched: FakePage[];
      try {
        matched = [...pages.values()].filter((page) => cqlMatches(cql, page));
      } catch (error) {
        return sendJson(
          res,
          400,
          v1ErrorBody(400, `Could not parse cql : ${(error as Error).message}`, true),
        );
      }
      return sendContentResults(matched, 100, `${url}${apiPath}?cql=${encodeURIComponent(cql)}`, {
        totalSize: matched.length,
        cqlQuery: cql,
        searchDuration: 3,
      });
    }

    if (req.method === 'GET' && apiPath === '/rest/api/content') {
      const spaceKey = requestUrl.searchParams.get('spaceKey');
      const title = requestUrl.searchParams.get('title');
      const type = requestUrl.searchParams.get('type') ?? 'page';
      const selected = [...pages.values()].filter(
        (page) =>
          type === 'page' &&
          (spaceKey === null || page.spaceKey === spaceKey) &&
          (title === null || page.title === title),
      );
      return sendContentResults(selected, 200, `${url}${apiPath}`);
    }

    if (req.method === 'GET' && (match = /^\/rest\/api\/space\/([^/]+)$/.exec(apiPath))) {
      const key = decodeURIComponent(match[1]!);
      const space = SPACES[key];
      if (!space) return sendJson(res, 404, v1ErrorBody(404, `No space with key : ${key}`, true));
      return sendJson(res, 200, {
        id: Number(space.id),
        key,
        name: space.name,
        type: 'global',
        status: 'current',
        _links: { webui: `/display/${key}`, self: `${url}/rest/api/space/${key}`, ...links },
      });
    }

    sendJson(res, 404, v1ErrorBody(404, 'null for uri: ' + requestUrl.href, true));
  }

  /** Where a request goes: the API-relative path, and what answers it. */
  function locate(via: 'site' | 'gateway', pathname: string) {
    if (via === 'gateway') {
      const prefix = `/ex/confluence/${cloudId}`;
      if (!pathname.startsWith(`${prefix}/wiki/`)) return null;
      return {
        apiPath: pathname.slice(prefix.length + '/wiki'.length),
        wikiPath: pathname.slice(prefix.length),
      };
    }
    if (datacenter) {
      if (context !== '' && !pathname.startsWith(`${context}/`)) return null;
      return { apiPath: pathname.slice(context.length), wikiPath: pathname };
    }
    if (!pathname.startsWith('/wiki/')) return null;
    return { apiPath: pathname.slice('/wiki'.length), wikiPath: pathname };
  }

  const gatewayScopeOf = (method: string, wikiPath: string) =>
    GATEWAY_SCOPES.find((entry) => entry.method === method && entry.path.test(wikiPath)) ?? null;

  async function route(
    via: 'site' | 'gateway',
    req: IncomingMessage,
    res: ServerResponse,
    requestUrl: URL,
  ): Promise<void> {
    const path = requestUrl.pathname;
    if (via === 'site' && !datacenter && req.method === 'GET' && path === '/_edge/tenant_info') {
      return sendJson(res, 200, { cloudId });
    }
    const located = locate(via, path);
    if (located === null) {
      if (via === 'gateway') return sendJson(res, 404, gatewayError(404, 'Not Found'));
      return sendJson(res, 404, datacenter ? v1ErrorBody(404, 'Not Found', true) : v2ErrorBody(404));
    }
    const { apiPath, wikiPath } = located;

    const tiny = /^\/x\/([A-Za-z0-9_-]+)$/.exec(apiPath);
    if (via === 'site' && tiny?.[1]) {
      const page = tinyLinkTarget(tiny[1]);
      if (!page)
        return sendJson(res, 404, datacenter ? v1ErrorBody(404, 'Not Found', true) : v2ErrorBody(404));
      res
        .writeHead(302, {
          location: datacenter ? `${url}${webui(page)}` : `${url}/wiki${webui(page)}`,
        })
        .end();
      return;
    }

    if (datacenter && !apiPath.startsWith('/rest/')) {
      // Not the REST API: Data Center's web layer answers a page it does not have.
      return sendJson(res, 404, v1ErrorBody(404, 'Not Found', true));
    }
    if (via === 'gateway') {
      if (!isAuthorized(req)) return sendJson(res, 401, gatewayError(401, 'Unauthorized'));
      const needed = gatewayScopeOf(req.method ?? 'GET', wikiPath);
      if (needed && !scopes.has(needed.scope) && !(needed.classic && scopes.has(needed.classic))) {
        return sendJson(res, 401, gatewayError(401, 'Unauthorized; scope does not match'));
      }
      return routeCloud(req, res, requestUrl, apiPath);
    }

    if (scopedToken && isAuthorized(req)) {
      // The site itself refuses a scoped token: it works only through the gateway.
      return sendJson(res, 401, gatewayError(401, 'Unauthorized; scope does not match'));
    }
    if (!isAuthorized(req)) {
      if (datacenter) {
        // Data Center: Seraph says why in its headers; the REST layer answers in the v1 shape.
        return sendJson(res, 401, v1ErrorBody(401, 'This request requires authentication', true), {
          'www-authenticate': `Basic realm="Confluence"`,
          'x-seraph-loginreason': 'AUTHENTICATED_FAILED',
          'x-ausername': 'anonymous',
        });
      }
      // Confluence Cloud answers a bad token with 401 and a challenge.
      const body = apiPath.startsWith('/rest/api/')
        ? v1ErrorBody(401, 'Current user not permitted to use Confluence')
        : v2ErrorBody(401);
      return sendJson(res, 401, body, { 'www-authenticate': 'Basic realm="Atlassian"' });
    }
    if (datacenter) return routeDatacenter(req, res, requestUrl, apiPath);
    return routeCloud(req, res, requestUrl, apiPath);
  }

  function classify(
    via: 'site' | 'gateway',
    method: string,
    requestUrl: URL,
  ): Pick<RecordedRequest, 'kind' | 'scope'> {
    if (via === 'site' && !datacenter && requestUrl.pathname === '/_edge/tenant_info') {
      return { kind: 'tenant-info', scope: null };
    }
    const located = locate(via, requestUrl.pathname);
    if (located === null) return { kind: 'other', scope: null };
    return {
      kind: kindOf(located.apiPath, requestUrl, datacenter),
      scope: via === 'gateway' ? (gatewayScopeOf(method, located.wikiPath)?.scope ?? null) : null,
    };
  }

  const matches =
    (filter: {
      pathIncludes?: string | undefined;
      kind?: RequestKind | readonly RequestKind[] | undefined;
    }) =>
    (pathAndQuery: string, kind: RequestKind) =>
      (filter.pathIncludes === undefined || pathAndQuery.includes(filter.pathIncludes)) &&
      (filter.kind === undefined || [filter.kind].flat().includes(kind));

  function handler(via: 'site' | 'gateway') {
    return (req: IncomingMessage, res: ServerResponse): void => {
      const requestUrl = new URL(req.url ?? '/', 'http://fake');
      const pathAndQuery = `${requestUrl.pathname}${requestUrl.search}`;
      const method = req.method ?? 'GET';
      const { kind, scope } = classify(via, method, requestUrl);
      requests.push({
        method,
        path: pathAndQuery,
        authorized: isAuthorized(req),
        kind,
        via,
        scope,
        at: Date.now(),
      });

      const gate = gates.find((g) => matches(g)(pathAndQuery, kind));
      if (!gate) return serve(via, req, res, pathAndQuery, kind);
      // A client that dies while held (a killed worker) has nobody left to answer.
      let gone = false;
      res.once('close', () => (gone = true));
      gate.held.push(() => {
        if (!gone) serve(via, req, res, pathAndQuery, kind);
      });
      gate.arrive();
    };
  }

  /** What this flavour's rate limiter sends with a 429 (Data Center's token bucket says a lot). */
  function rateLimitHeaders(given: Record<string, string> = {}): Record<string, string> {
    if (!datacenter) return given;
    const lower = Object.fromEntries(Object.entries(given).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      'retry-after': '1',
      'x-ratelimit-limit': '20',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-interval-seconds': '1',
      'x-ratelimit-fillrate': '10',
      ...lower,
    };
  }

  function faultBody(status: number, via: 'site' | 'gateway'): unknown {
    if (datacenter) return v1ErrorBody(status, ERROR_TITLES[status] ?? 'Error', true);
    if (via === 'gateway' && status === 401) return gatewayError(401, 'Unauthorized');
    return v2ErrorBody(status);
  }

  /** Answers a request that is not (or no longer) held: with a pending fault, else by the API. */
  function serve(
    via: 'site' | 'gateway',
    req: IncomingMessage,
    res: ServerResponse,
    pathAndQuery: string,
    kind: RequestKind,
  ): void {
    const faultIndex = faults.findIndex((f) => matches(f)(pathAndQuery, kind));
    const fault = faultIndex === -1 ? undefined : faults[faultIndex];
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) faults.splice(faultIndex, 1);
    }
    const answer = () => {
      if (fault?.reset) {
        req.socket.destroy();
        return;
      }
      if (fault?.truncate) {
        const page = [...pages.values()][0];
        const body = page
          ? datacenter
            ? contentV1(page, ['version', 'body.storage'])
            : pageSummary(page, true)
          : { results: [] };
        const text = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      if (fault?.status !== undefined) {
        const headers = fault.status === 429 ? rateLimitHeaders(fault.headers) : fault.headers;
        sendJson(res, fault.status, fault.body ?? faultBody(fault.status, via), headers);
        return;
      }
      const base = via === 'gateway' ? gatewayOrigin! : origin;
      route(via, req, res, new URL(req.url ?? '/', base)).catch((error: unknown) =>
        sendJson(res, 500, { message: String(error) }),
      );
    };
    if (fault?.delayMs) setTimeout(answer, fault.delayMs);
    else answer();
  }

  const listen = async (server: Server, port: number) => {
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const site: Server = createServer(handler('site'));
  origin = await listen(site, options.port ?? 0);
  url = `${origin}${context}`;
  const gateway: Server | null = scopedToken ? createServer(handler('gateway')) : null;
  if (gateway) gatewayOrigin = await listen(gateway, 0);

  const links = (id: string): PageLinks => {
    const page = pages.get(id);
    const spaceKey = page?.spaceKey ?? 'COMP';
    const title = page?.title ?? 'Page';
    const wiki = datacenter ? url : `${url}/wiki`;
    return {
      id,
      spaces: `${wiki}/spaces/${spaceKey}/pages/${id}/${slug(title)}`,
      viewpage: `${wiki}/pages/viewpage.action?pageId=${id}`,
      tiny: `${wiki}/x/${encodeTinyLinkCode(id)}`,
      display: `${url}/display/${spaceKey}/${displaySlug(title)}`,
    };
  };

  const env = (): Record<string, string> => {
    if (datacenter) {
      return {
        CONFLUENCE_DEPLOYMENT: 'datacenter',
        CONFLUENCE_URL: url,
        ...(dcAuth === 'basic' ? { CONFLUENCE_USERNAME: username } : {}),
        CONFLUENCE_API_TOKEN: apiToken,
      };
    }
    return {
      CONFLUENCE_URL: `${url}/wiki`,
      CONFLUENCE_USERNAME: username,
      CONFLUENCE_API_TOKEN: apiToken,
      ...(scopedToken
        ? { CONFLUENCE_API_TOKEN_SCOPED: 'true', CONFLUENCE_API_GATEWAY_URL: gatewayOrigin! }
        : {}),
    };
  };

  const close = (server: Server) =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });

  return {
    flavour,
    url,
    gatewayUrl: gatewayOrigin,
    cloudId,
    username,
    get apiToken() {
      return apiToken;
    },
    get env() {
      return env();
    },
    requests,
    putPage(input) {
      const previous = pages.get(input.id);
      const name = input.authorName ?? (input.authorUsername ? null : 'Compliance Officer');
      const authorId =
        name === null
          ? `557058:${input.authorUsername}`
          : `557058:${name.toLowerCase().replaceAll(' ', '-')}`;
      if (input.authorName || input.authorUsername) {
        users.set(authorId, {
          displayName: name,
          username: input.authorUsername ?? name!.toLowerCase().replaceAll(' ', '.'),
        });
      }
      const page: FakePage = {
        id: input.id,
        spaceKey: input.spaceKey ?? previous?.spaceKey ?? 'COMP',
        title: input.title,
        storage: input.storage,
        version: (previous?.version ?? 0) + 1,
        labels: input.labels ?? previous?.labels ?? [],
        authorId,
        updatedAt: new Date().toISOString(),
      };
      pages.set(page.id, page);
      return page;
    },
    deletePage(id) {
      pages.delete(id);
    },
    page: (id) => pages.get(id),
    pageUrl: (id) => (datacenter ? links(id).viewpage : links(id).spaces),
    tinyLink: (id) => links(id).tiny,
    displayUrl: (id) => links(id).display,
    links,
    fail(fault) {
      faults.push({ ...fault });
    },
    hold(filter = {}) {
      let arrive = () => {};
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const gate = {
        pathIncludes: filter.pathIncludes,
        kind: filter.kind,
        held: [] as (() => void)[],
        arrive,
      };
      gates.push(gate);
      return {
        arrived,
        release() {
          const index = gates.indexOf(gate);
          if (index !== -1) gates.splice(index, 1);
          for (const answer of gate.held.splice(0)) answer();
        },
      };
    },
    revokeToken() {
      apiToken = `revoked-${apiToken}`;
    },
    close: async () => {
      await Promise.all([close(site), ...(gateway ? [close(gateway)] : [])]);
    },
  };
}
