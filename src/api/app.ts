import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import express, {
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { pinoHttp } from 'pino-http';
import type { CheckItem } from '../domain/index.ts';
import type { Logger } from '../logger.ts';
import { createAuth, type Principal } from './auth.ts';
import { createDashboard } from './dashboard.ts';
import { bodyParserError, HttpError, MethodNotAllowedError, NotFoundError } from './errors.ts';
import type { CheckResult, Metrics } from './metrics.ts';
import type { CheckAnswer } from './schemas.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { JSON_CONTENT_TYPE, JsonBytes, type Route, type RouteDeps } from './route.ts';
import { ROUTES } from './routes.ts';
import { givenOnce, parseRequest } from './validation.ts';
import { createViews, type ViewDeps } from './views.ts';

export interface AppDeps extends ViewDeps {
  /** Request logs (with request ids) and warnings; none in tests that do not need them. */
  logger?: Logger;
  metrics?: Metrics;
}

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** `/v1/sync/runs/{workflow_id}/approve` → `/v1/sync/runs/:workflow_id/approve` */
const expressPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** The methods a path answers, for the Allow header of a 405 (Express answers HEAD for a GET). */
function allowed(routes: readonly Route[]): string[] {
  const methods = routes.map((route) => route.method.toUpperCase());
  return methods.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]));
}

/** A route's handlers: its access guard, then validation by its schemas, then its handler. */
function handlersOf(route: Route, deps: RouteDeps): RequestHandler[] {
  const { auth, dashboard } = deps;
  const guard: RequestHandler | null =
    route.access === 'public'
      ? null
      : route.access === 'admin'
        ? auth.requireAdmin
        : route.access === 'admin-form'
          ? auth.requireAdminForm
          : route.kind === 'html'
            ? dashboard.requireViewer
            : auth.requireRead;
  // The JSON API refuses a query parameter given twice; the dashboard's search takes the first.
  const query = route.query && route.kind === 'json' ? givenOnce.pipe(route.query) : route.query;

  const respond: RequestHandler = async (req, res) => {
    const started = route.kind === 'json' && route.refused ? performance.now() : 0;
    let input: { query: unknown; params: unknown; body: unknown };
    try {
      input = {
        query: query ? parseRequest(query, req.query) : undefined,
        params: route.params ? parseRequest(route.params, req.params) : undefined,
        body: route.body
          ? ((route.kind === 'json' ? route.readBody?.(req.body) : null) ??
            parseRequest(route.body, req.body))
          : undefined,
      };
    } catch (error) {
      if (route.kind === 'json') route.refused?.(deps, (performance.now() - started) / 1000);
      throw error;
    }
    const principal = (res.locals.principal as Principal | undefined) ?? null;
    if (route.kind === 'html') {
      await route.handler({ ...input, principal, viewer: res.locals.viewer ?? null, req, res }, deps);
      return;
    }
    const reply = (await route.handler({ ...input, principal, req, res }, deps)) as unknown as {
      status: number;
      body: unknown;
      contentType?: string;
    };
    res.status(reply.status);
    if (reply.body instanceof JsonBytes) res.set('Content-Type', JSON_CONTENT_TYPE).send(reply.body.bytes);
    else if (reply.contentType === undefined) res.json(reply.body);
    else res.type(reply.contentType).send(reply.body);
  };

  if (route.kind === 'json') return [...(guard ? [guard] : []), respond];
  const markHtml: RequestHandler = (_req, res, next) => {
    res.locals.html = true;
    next();
  };
  return [
    markHtml,
    route.asset ? dashboard.assetHeaders : dashboard.pageHeaders,
    ...(route.body ? [dashboard.form] : []),
    ...(guard ? [guard] : []),
    respond,
  ];
}

/**
 * The fast lanes of the table's GET routes (`fast`), in front of everything else: a request a lane
 * answers meets no middleware; one it leaves goes on through all of it, as any request does.
 */
function mountFastLanes(app: Express, routes: readonly Route[], deps: RouteDeps): void {
  const lanes = routes.flatMap((route) =>
    route.kind === 'json' && route.method === 'get' && route.fast
      ? [{ path: route.path, fast: route.fast }]
      : [],
  );
  if (lanes.length === 0) return;
  app.use((req, res, next) => {
    if (req.method === 'GET') {
      // The path exactly (Express would also route `/V1/check/`, which the lane leaves to it).
      const { url } = req;
      for (const { path, fast } of lanes) {
        const onPath =
          url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 0x3f);
        if (onPath && fast(req, res, deps)) return;
      }
    }
    next();
  });
}

/** Every route of the table, and a 405 for any other method on a path the table knows. */
function mountRoutes(app: Express, routes: readonly Route[], deps: RouteDeps): void {
  const byPath = new Map<string, Route[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  for (const [path, group] of byPath) {
    for (const route of group) app[route.method](expressPath(path), ...handlersOf(route, deps));
    const allow = allowed(group);
    app.all(expressPath(path), (req, _res, next) => next(new MethodNotAllowedError(req.method, allow)));
  }
}

/** Builds the Express app without listening (tests use it on port 0). */
export function createApp(deps: AppDeps) {
  const auth = createAuth(deps.config);
  if (auth.open) {
    deps.logger?.warn(
      'API_READ_TOKENS and API_ADMIN_TOKENS are not set: read endpoints are open to anyone who can reach the port',
    );
  }
  const views = createViews(deps);
  const dashboard = createDashboard({
    config: deps.config,
    auth,
    views,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });

  /** Answers checks and counts them by result, with the time taken, for /metrics. */
  async function counted<T>(answer: () => Promise<{ answers: T; restricted: boolean[] }>): Promise<T> {
    const started = performance.now();
    const record = (results: CheckResult[]) =>
      deps.metrics?.recordChecks(results, (performance.now() - started) / 1000);
    try {
      const { answers, restricted } = await answer();
      record(restricted.map((yes) => (yes ? 'restricted' : 'not_restricted')));
      return answers;
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      record([status === 503 ? 'unavailable' : status === 400 ? 'invalid' : 'error']);
      throw error;
    }
  }
  const answerChecks = (items: CheckItem[], at: Date | null) =>
    counted(async () => {
      const answers = await views.check(items, at);
      return { answers, restricted: answers.map((answer) => answer.restricted) };
    });
  /** A batch answered now is written out from the snapshot's precomputed parts. */
  const answerBatch = (items: CheckItem[], at: Date | null) =>
    counted<{ results: CheckAnswer[] } | JsonBytes>(async () => {
      const now = at === null ? views.checkAnswers.batchBytes(items) : null;
      if (now !== null) return { answers: new JsonBytes(now.body), restricted: now.restricted };
      const results = await views.check(items, at);
      return { answers: { results }, restricted: results.map((answer) => answer.restricted) };
    });

  /** A caller's request id (a load balancer's, the trading service's) is kept, else one is made. */
  const requestIdOf = (req: IncomingMessage) => {
    const given = req.headers['x-request-id'];
    return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
  };

  const routeDeps: RouteDeps = {
    config: deps.config,
    auth,
    views,
    dashboard,
    answerChecks,
    answerBatch,
    metrics: deps.metrics,
    // Request ids come with the request logs.
    requestId: deps.logger ? requestIdOf : null,
    openApiJson: JSON.stringify(buildOpenApiDocument(VERSION)),
  };

  const app = express();
  app.disable('x-powered-by');
  // Answers change with every sync and are not cached by clients: no ETag hashing per response.
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Behind a TLS-terminating proxy on the same host or private network, req.secure and the
  // dashboard's same-origin check follow X-Forwarded-Proto (session cookies are then Secure).
  app.set('trust proxy', 'loopback, uniquelocal');
  // GET /v1/check's fast lane before anything else (the route table declares it).
  mountFastLanes(app, ROUTES, routeDeps);
  const requestId = (req: IncomingMessage, res: ServerResponse) => {
    const id = requestIdOf(req);
    res.setHeader('x-request-id', id);
    return id;
  };
  if (deps.logger) {
    const httpLogger = pinoHttp({
      logger: deps.logger,
      genReqId: requestId,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: {
        ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
      },
    });
    app.use((req, res, next) => {
      // The trading service's checks are the hot path: they get a request id but no per-request
      // log line (metrics count them; unexpected errors are logged by the error handler).
      if (req.path === '/v1/check') {
        requestId(req, res);
        next();
        return;
      }
      httpLogger(req, res, next);
    });
  }
  // For every path, before routing, as always: a malformed JSON body is a 400 wherever it is sent.
  app.use(express.json({ limit: '256kb' }));

  // Helmet's headers go on the dashboard's HTML routes only (dashboard.ts): the JSON API is read by
  // services, not rendered in a browser, so they would protect nothing there, and the check
  // endpoint is the hot path, where every per-request step counts.
  mountRoutes(app, ROUTES, routeDeps);

  app.use((_req, _res, next) => next(new NotFoundError()));

  // The one error handler, for the JSON API and the dashboard alike: a known refusal keeps its
  // status and words (JSON on API routes, the dashboard's error page on HTML routes); anything
  // else is a 500 without internals, logged.
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const html = res.locals.html === true;
    const known = error instanceof HttpError ? error : bodyParserError(error, html);
    if (known === null)
      deps.logger?.error({ err: error, method: req.method, path: req.path }, 'unhandled API error');
    if (known instanceof MethodNotAllowedError) res.set('Allow', known.allow.join(', '));
    if (html) {
      dashboard.sendError(req, res, known);
      return;
    }
    if (known === null) {
      res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
      return;
    }
    res.status(known.status).json(known.toJSON());
  });

  return app;
}
