import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import type { CheckItem } from '../domain/index.ts';
import type { Auth, Principal } from './auth.ts';
import type { Dashboard } from './dashboard.ts';
import type { Viewer } from './dashboard/render.ts';
import type { Metrics } from './metrics.ts';
import type { CheckAnswer } from './schemas.ts';
import type { Views } from './views.ts';

/**
 * What a route of the table (routes.ts) declares. From these declarations the app is mounted
 * (app.ts), every request is validated and /openapi.json is written (openapi.ts).
 */

export type Method = 'get' | 'post';

/**
 * Who may call a route. `read`: a read or admin token, as a bearer header or a dashboard session
 * (anyone when no token is configured). `admin`: an admin bearer token only (a cookie would make a
 * JSON admin endpoint forgeable from another site). `admin-form`: the dashboard's admin forms, an
 * admin bearer token or an admin session whose form carries its CSRF token, from this site.
 */
export type Access = 'public' | 'read' | 'admin' | 'admin-form';

/** What every handler may use; built once per app. */
export interface RouteDeps {
  config: Config;
  auth: Auth;
  views: Views;
  dashboard: Dashboard;
  /** Answers checks (now, or at a past instant) and counts them by result for /metrics. */
  answerChecks(items: CheckItem[], at: Date | null): Promise<CheckAnswer[]>;
  /** The same, as POST /v1/check answers them: `{ results }`, written out when answered now. */
  answerBatch(items: CheckItem[], at: Date | null): Promise<{ results: CheckAnswer[] } | JsonBytes>;
  metrics: Metrics | undefined;
  /** The request id a response carries (the caller's, else a new one); null: responses carry none. */
  requestId: ((req: IncomingMessage) => string) | null;
  /** /openapi.json, serialised once. */
  openApiJson: string;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RequestContext<Q, P, B, A extends Access> {
  query: Parsed<Q>;
  params: Parsed<P>;
  body: Parsed<B>;
  /** Who is calling, as the access guard found; null on public routes and when no token is configured. */
  principal: A extends 'admin' | 'admin-form' ? Principal : Principal | null;
  req: Request;
  res: Response;
}

/** A successful answer: JSON described by `schema`, or a body of `contentType` (metrics, this spec). */
export interface JsonResponse {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

// Through a conditional type, so that a handler's `status: 200` stays the literal 200.
type Status<S> = S extends number ? S : S extends `${infer N extends number}` ? N : never;

/** The Content-Type res.json gives JSON. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * A JSON body written out already, for an answer assembled from precomputed parts: exactly the
 * UTF-8 of JSON.stringify of a value of the response's schema. Sent as res.json sends JSON.
 */
export class JsonBytes {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

/** What a JSON handler returns: a status it declared, and a body of that status's schema. */
export type Reply<R> = {
  [S in keyof R]: R[S] extends { schema: infer Z extends z.ZodType }
    ? { status: Status<S>; body: z.output<Z> | JsonBytes }
    : { status: Status<S>; body: string; contentType: string };
}[keyof R];

interface RouteBase<Q, P, B, A extends Access> {
  method: Method;
  /** As OpenAPI writes it: `/v1/sync/runs/{workflow_id}/approve`. */
  path: string;
  summary: string;
  description?: string;
  access: A;
  query?: Q;
  params?: P;
  body?: B;
  /** Refusals the handler may answer (besides those of access and validation), by status. */
  errors?: Record<number, string>;
}

export interface JsonRoute<Q, P, B, A extends Access, R> extends RouteBase<Q, P, B, A> {
  kind: 'json';
  responses: R;
  /** Told of a request its schemas refused (the check routes count those for /metrics). */
  refused?(deps: RouteDeps, seconds: number): void;
  /**
   * Reads the body as `body` does, faster, the usual way round; null leaves the body to `body`
   * (and its refusals). For a body whose schema costs more than the rest of the answer.
   */
  readBody?(body: unknown): Parsed<B> | null;
  /**
   * A GET route's fast lane, run before any middleware (app.ts): it answers, and returns true, only
   * a request it can tell the route would answer, with the same bytes, status and headers; it
   * returns false, having written nothing, to leave any other request to the route as declared.
   */
  fast?(req: IncomingMessage, res: ServerResponse, deps: RouteDeps): boolean;
  handler(ctx: RequestContext<Q, P, B, A>, deps: RouteDeps): NoInfer<Reply<R> | Promise<Reply<R>>>;
}

/** A dashboard route: HTML pages and form posts; its errors are the dashboard's error page. */
export interface HtmlRoute<Q, P, B, A extends Access> extends RouteBase<Q, P, B, A> {
  kind: 'html';
  /** A stylesheet rather than a page: no page security headers, cached. */
  asset?: boolean;
  /** What a successful request gets, by status. */
  responses: Record<number, string>;
  handler(ctx: RequestContext<Q, P, B, A> & { viewer: Viewer | null }, deps: RouteDeps): void | Promise<void>;
}

// The table holds routes of every shape; each was type-checked where it was declared.
export type AnyJsonRoute = JsonRoute<any, any, any, Access, any>;
export type AnyHtmlRoute = HtmlRoute<any, any, any, Access>;
export type Route = AnyJsonRoute | AnyHtmlRoute;

type Schema = z.ZodType | undefined;

/** A JSON API route; its handler's input and reply are typed by its schemas. */
export function json<
  Q extends Schema = undefined,
  P extends Schema = undefined,
  B extends Schema = undefined,
  A extends Exclude<Access, 'admin-form'> = 'public',
  R extends Record<number, JsonResponse> = Record<number, JsonResponse>,
>(route: Omit<JsonRoute<Q, P, B, A, R>, 'kind'>): Route {
  return { kind: 'json', ...route } as unknown as AnyJsonRoute;
}

/** A dashboard route (HTML). */
export function html<
  Q extends Schema = undefined,
  P extends Schema = undefined,
  B extends Schema = undefined,
  A extends Exclude<Access, 'admin'> = 'public',
>(route: Omit<HtmlRoute<Q, P, B, A>, 'kind'>): Route {
  return { kind: 'html', ...route } as unknown as AnyHtmlRoute;
}
