import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeTinyLinkCode } from '../confluence/page-ref.ts';

/**
 * A real HTTP server that answers the Confluence Cloud REST API paths our client calls, with the
 * real API's response shapes, status codes, headers and cursor pagination. Tests and `npm run dev`
 * point CONFLUENCE_URL at it; confluence.js talks to it over the wire like to the real thing.
 *
 * Answered: v2 `GET /pages/{id}`, `GET /pages?id=…`, `GET /spaces?keys=…`, `GET /spaces/{id}/pages`,
 * `POST /users-bulk`; v1 `GET /rest/api/content/search?cql=…` (a CQL subset: `type`, `space`,
 * `title`, `label`, `id` joined by `and`); tiny links `/wiki/x/CODE` (302 to the page).
 *
 * Tests steer it two ways. `fail(fault)` answers the next matching requests with a canned failure
 * (or a delay). `hold({ pathIncludes })` closes a gate: every matching request is held unanswered
 * until `release()`, and `arrived` resolves when the first one comes in — so a test can keep a run
 * inside a step for exactly as long as it needs, instead of guessing a delay. `release()` answers
 * every held request whose client is still connected (one whose client died is dropped) and opens
 * the gate for good: later requests pass, so a retried attempt is answered whether it arrives
 * before or after the release.
 */
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
  path: string;
  authorized: boolean;
  /** When it arrived (epoch ms). */
  at: number;
}

export interface FakeConfluence {
  /** Site URL to use as CONFLUENCE_URL. */
  readonly url: string;
  readonly username: string;
  readonly apiToken: string;
  readonly requests: RecordedRequest[];
  /** Creates the page or saves a new version of it. */
  putPage(page: {
    id: string;
    title: string;
    storage: string;
    spaceKey?: string;
    labels?: string[];
    authorName?: string;
  }): FakePage;
  deletePage(id: string): void;
  page(id: string): FakePage | undefined;
  pageUrl(id: string): string;
  tinyLink(id: string): string;
  displayUrl(id: string): string;
  fail(fault: FakeFault): void;
  /** Holds matching requests (all, without `pathIncludes`) unanswered until the gate is released. */
  hold(options?: { pathIncludes?: string }): FakeGate;
  /** Stop accepting the current credentials (a revoked token). */
  revokeToken(): void;
  close(): Promise<void>;
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

/** The v2 API's error body. */
function v2ErrorBody(status: number): unknown {
  const title = ERROR_TITLES[status] ?? 'Error';
  return { errors: [{ status, code: title.toUpperCase().replaceAll(' ', '_'), title, detail: null }] };
}

/** The v1 API's error body. */
function v1ErrorBody(status: number, message: string): unknown {
  return {
    statusCode: status,
    data: { authorized: status !== 401, valid: true, errors: [], successful: false },
    message,
    reason: ERROR_TITLES[status] ?? 'Error',
  };
}

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

/** One page of a list, with the `_links.next` and `Link` header the real API sends. */
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

/** The subset of CQL that list pages are selected with. */
function cqlMatches(cql: string, page: FakePage): boolean {
  const clauses = cql.split(/\s+and\s+/i);
  return clauses.every((clause) => {
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

export async function startFakeConfluence(
  options: { username?: string; apiToken?: string; port?: number } = {},
): Promise<FakeConfluence> {
  const username = options.username ?? 'compliance-bot@example.com';
  let apiToken = options.apiToken ?? 'fake-confluence-token-for-tests';
  const pages = new Map<string, FakePage>();
  const users = new Map<string, string>([['557058:compliance-officer', 'Compliance Officer']]);
  const faults: FakeFault[] = [];
  const gates: { pathIncludes: string | undefined; held: (() => void)[]; arrive: () => void }[] = [];
  const requests: RecordedRequest[] = [];
  let url = '';

  const isAuthorized = (req: IncomingMessage) =>
    req.headers.authorization === `Basic ${Buffer.from(`${username}:${apiToken}`).toString('base64')}`;

  const webui = (page: FakePage) =>
    `/spaces/${page.spaceKey}/pages/${page.id}/${encodeURIComponent(page.title.replaceAll(' ', '+'))}`;

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
              by: {
                type: 'known',
                accountId: page.authorId,
                accountType: 'atlassian',
                displayName: users.get(page.authorId) ?? page.authorId,
                publicName: users.get(page.authorId) ?? page.authorId,
              },
              when: page.updatedAt,
              number: page.version,
              minorEdit: false,
            },
          }
        : {}),
      ...(expand.includes('body.storage')
        ? { body: { storage: { value: page.storage, representation: 'storage' } } }
        : {}),
      _links: {
        webui: webui(page),
        self: `${url}/wiki/rest/api/content/${page.id}`,
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

  async function route(req: IncomingMessage, res: ServerResponse, requestUrl: URL): Promise<void> {
    const path = requestUrl.pathname;
    const isV1 = path.startsWith('/wiki/rest/api/');
    const notFound = () => sendJson(res, 404, isV1 ? v1ErrorBody(404, 'No content found') : v2ErrorBody(404));

    const tiny = /^\/wiki\/x\/([A-Za-z0-9_-]+)$/.exec(path);
    if (tiny?.[1]) {
      const page = [...pages.values()].find((p) => encodeTinyLinkCode(p.id) === tiny[1]);
      if (!page) return notFound();
      res.writeHead(302, { location: `${url}/wiki${webui(page)}` }).end();
      return;
    }

    if (!isAuthorized(req)) {
      // Confluence Cloud answers a bad token with 401 and a challenge.
      const body = isV1 ? v1ErrorBody(401, 'Current user not permitted to use Confluence') : v2ErrorBody(401);
      return sendJson(res, 401, body, { 'www-authenticate': 'Basic realm="Atlassian"' });
    }

    let match: RegExpExecArray | null;
    if (req.method === 'GET' && (match = /^\/wiki\/api\/v2\/pages\/(\d+)$/.exec(path))) {
      const page = pages.get(match[1]!);
      if (!page) return notFound();
      return sendJson(res, 200, pageSummary(page, requestUrl.searchParams.get('body-format') === 'storage'));
    }

    if (req.method === 'GET' && path === '/wiki/api/v2/pages') {
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

    if (req.method === 'GET' && path === '/wiki/api/v2/spaces') {
      const keys = listParam(requestUrl, 'keys');
      const results = Object.entries(SPACES)
        .filter(([key]) => keys.length === 0 || keys.includes(key))
        .map(([key, space]) => ({ id: space.id, key, name: space.name, type: 'global', status: 'current' }));
      return sendJson(res, 200, { results, _links: { base: `${url}/wiki` } });
    }

    if (req.method === 'GET' && (match = /^\/wiki\/api\/v2\/spaces\/(\d+)\/pages$/.exec(path))) {
      const spaceKey = Object.entries(SPACES).find(([, space]) => space.id === match![1])?.[0];
      if (!spaceKey) return notFound();
      const inSpace = [...pages.values()].filter((page) => page.spaceKey === spaceKey);
      const { slice, next } = paginate(inSpace, requestUrl, 250, 25);
      return sendJson(res, 200, {
        results: slice.map((page) => pageSummary(page, false)),
        _links: { ...(next ? { next } : {}), base: `${url}/wiki` },
      });
    }

    if (req.method === 'POST' && path === '/wiki/api/v2/users-bulk') {
      const { accountIds = [] } = JSON.parse((await readBody(req)) || '{}') as { accountIds?: string[] };
      const results = accountIds
        .filter((id) => users.has(id))
        .map((id) => ({
          accountId: id,
          accountType: 'atlassian',
          accountStatus: 'active',
          displayName: users.get(id),
          publicName: users.get(id),
        }));
      return sendJson(res, 200, { results, _links: { base: `${url}/wiki` } });
    }

    if (req.method === 'GET' && path === '/wiki/rest/api/content/search') {
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

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const requestUrl = new URL(req.url ?? '/', 'http://fake');
    const pathAndQuery = `${requestUrl.pathname}${requestUrl.search}`;
    requests.push({
      method: req.method ?? 'GET',
      path: pathAndQuery,
      authorized: isAuthorized(req),
      at: Date.now(),
    });

    const gate = gates.find((g) => g.pathIncludes === undefined || pathAndQuery.includes(g.pathIncludes));
    if (!gate) return serve(req, res, pathAndQuery);
    // A client that dies while held (a killed worker) has nobody left to answer.
    let gone = false;
    res.once('close', () => (gone = true));
    gate.held.push(() => {
      if (!gone) serve(req, res, pathAndQuery);
    });
    gate.arrive();
  }

  /** Answers a request that is not (or no longer) held: with a pending fault, else by the API. */
  function serve(req: IncomingMessage, res: ServerResponse, pathAndQuery: string): void {
    const faultIndex = faults.findIndex(
      (f) => f.pathIncludes === undefined || pathAndQuery.includes(f.pathIncludes),
    );
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
        const text = JSON.stringify(page ? pageSummary(page, true) : { results: [] });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      if (fault?.status !== undefined) {
        sendJson(res, fault.status, fault.body ?? v2ErrorBody(fault.status), fault.headers);
        return;
      }
      route(req, res, new URL(req.url ?? '/', url)).catch((error: unknown) =>
        sendJson(res, 500, { message: String(error) }),
      );
    };
    if (fault?.delayMs) setTimeout(answer, fault.delayMs);
    else answer();
  }

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    username,
    get apiToken() {
      return apiToken;
    },
    requests,
    putPage(input) {
      const previous = pages.get(input.id);
      const authorId = input.authorName
        ? `557058:${input.authorName.toLowerCase().replaceAll(' ', '-')}`
        : '557058:compliance-officer';
      if (input.authorName) users.set(authorId, input.authorName);
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
    pageUrl: (id) => {
      const page = pages.get(id);
      return `${url}/wiki/spaces/${page?.spaceKey ?? 'COMP'}/pages/${id}/${encodeURIComponent((page?.title ?? 'Page').replaceAll(' ', '+'))}`;
    },
    tinyLink: (id) => `${url}/wiki/x/${encodeTinyLinkCode(id)}`,
    displayUrl: (id) => {
      const page = pages.get(id);
      return `${url}/display/${page?.spaceKey ?? 'COMP'}/${encodeURIComponent(page?.title ?? 'Page').replaceAll('%20', '+')}`;
    },
    fail(fault) {
      faults.push({ ...fault });
    },
    hold(options = {}) {
      let arrive = () => {};
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const gate = { pathIncludes: options.pathIncludes, held: [] as (() => void)[], arrive };
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
