import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeTinyLinkCode } from '../confluence/page-ref.ts';

/**
 * A real HTTP server that answers the Confluence Cloud REST API paths our client calls, with the
 * real API's response shapes, status codes and headers. Tests and `npm run dev` point
 * CONFLUENCE_URL at it; confluence.js talks to it over the wire like to the real thing.
 */
export interface FakePage {
  id: string;
  spaceKey: string;
  spaceId: string;
  title: string;
  storage: string;
  version: number;
  authorId: string;
  authorName: string;
  updatedAt: string;
}

/** A canned failure for the next matching requests (status, headers, body as the real API sends them). */
export interface FakeFault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many requests it answers; default 1. */
  times?: number;
  /** Only requests whose path contains this. */
  pathIncludes?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorized: boolean;
}

export interface FakeConfluence {
  /** Site URL to use as CONFLUENCE_URL. */
  readonly url: string;
  readonly username: string;
  readonly apiToken: string;
  readonly requests: RecordedRequest[];
  /** Creates the page or saves a new version of it. */
  putPage(page: { id: string; title: string; storage: string; spaceKey?: string; authorName?: string }): FakePage;
  deletePage(id: string): void;
  page(id: string): FakePage | undefined;
  pageUrl(id: string): string;
  tinyLink(id: string): string;
  fail(fault: FakeFault): void;
  /** Stop accepting the current credentials (a revoked token). */
  revokeToken(): void;
  close(): Promise<void>;
}

const ERROR_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** The v2 API's error body. */
function v2ErrorBody(status: number): unknown {
  const title = ERROR_TITLES[status] ?? 'Error';
  return { errors: [{ status, code: title.toUpperCase().replaceAll(' ', '_'), title, detail: null }] };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function startFakeConfluence(
  options: { username?: string; apiToken?: string; port?: number } = {},
): Promise<FakeConfluence> {
  const username = options.username ?? 'compliance-bot@example.com';
  let apiToken = options.apiToken ?? 'fake-confluence-token-for-tests';
  const pages = new Map<string, FakePage>();
  const faults: FakeFault[] = [];
  const requests: RecordedRequest[] = [];
  let url = '';

  function isAuthorized(req: IncomingMessage): boolean {
    const expected = `Basic ${Buffer.from(`${username}:${apiToken}`).toString('base64')}`;
    return req.headers.authorization === expected;
  }

  function pageJson(page: FakePage, includeBody: boolean): unknown {
    const webui = `/spaces/${page.spaceKey}/pages/${page.id}/${encodeURIComponent(page.title.replaceAll(' ', '+'))}`;
    return {
      id: page.id,
      status: 'current',
      title: page.title,
      spaceId: page.spaceId,
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
      _links: { editui: `/pages/resumedraft.action?draftId=${page.id}`, webui, tinyui: `/x/${encodeTinyLinkCode(page.id)}` },
    };
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const requestUrl = new URL(req.url ?? '/', 'http://fake');
    const path = requestUrl.pathname;
    const authorized = isAuthorized(req);
    requests.push({ method: req.method ?? 'GET', path: `${path}${requestUrl.search}`, authorized });

    const faultIndex = faults.findIndex((f) => f.pathIncludes === undefined || path.includes(f.pathIncludes));
    const fault = faultIndex === -1 ? undefined : faults[faultIndex];
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) faults.splice(faultIndex, 1);
      sendJson(res, fault.status, fault.body ?? v2ErrorBody(fault.status), fault.headers);
      return;
    }

    const tiny = /^\/wiki\/x\/([A-Za-z0-9_-]+)$/.exec(path);
    if (tiny?.[1]) {
      const page = [...pages.values()].find((p) => encodeTinyLinkCode(p.id) === tiny[1]);
      if (!page) return sendJson(res, 404, v2ErrorBody(404));
      res.writeHead(302, { location: `${url}/wiki/spaces/${page.spaceKey}/pages/${page.id}` }).end();
      return;
    }

    if (!authorized) {
      // Confluence Cloud answers a bad token with 401 and a WWW-Authenticate challenge.
      sendJson(res, 401, v2ErrorBody(401), { 'www-authenticate': 'Basic realm="Atlassian"' });
      return;
    }

    const single = /^\/wiki\/api\/v2\/pages\/(\d+)$/.exec(path);
    if (req.method === 'GET' && single?.[1]) {
      const page = pages.get(single[1]);
      if (!page) return sendJson(res, 404, v2ErrorBody(404));
      sendJson(res, 200, pageJson(page, requestUrl.searchParams.get('body-format') === 'storage'));
      return;
    }

    sendJson(res, 404, v2ErrorBody(404));
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
      const page: FakePage = {
        id: input.id,
        spaceKey: input.spaceKey ?? previous?.spaceKey ?? 'COMP',
        spaceId: previous?.spaceId ?? '98304',
        title: input.title,
        storage: input.storage,
        version: (previous?.version ?? 0) + 1,
        authorId: '557058:compliance-officer',
        authorName: input.authorName ?? 'Compliance Officer',
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
    fail(fault) {
      faults.push({ ...fault });
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
