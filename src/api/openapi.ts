import { z } from 'zod';
import * as s from './schemas.ts';

type Auth = 'none' | 'read' | 'admin';

interface Route {
  method: 'get' | 'post';
  path: string;
  summary: string;
  auth: Auth;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

const unavailable = {
  description: 'no sync has ever succeeded: the service never says "not restricted" without a list',
  schema: s.errorSchema,
};
const badRequest = { description: 'invalid request', schema: s.errorSchema };

function decisionRoute(decision: 'approve' | 'reject', summary: string): Route {
  return {
    method: 'post',
    path: `/v1/sync/runs/{workflow_id}/${decision}`,
    summary,
    auth: 'admin',
    responses: {
      202: { description: 'signalled', schema: s.decisionSchema },
      403: { description: 'needs an admin token', schema: s.errorSchema },
      404: { description: 'no such run', schema: s.errorSchema },
      409: { description: 'not awaiting approval', schema: s.errorSchema },
    },
  };
}

/** Every endpoint of the contract, with its schemas: the source of /openapi.json. */
export const ROUTES: Route[] = [
  {
    method: 'get',
    path: '/v1/check',
    summary: 'Is this instrument restricted (now, or at a past instant)?',
    auth: 'read',
    query: s.checkQuerySchema,
    responses: {
      200: { description: 'the answer', schema: s.checkResultSchema },
      400: badRequest,
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/v1/check',
    summary: 'Check 1 to 1000 instruments at once',
    auth: 'read',
    body: s.batchCheckBodySchema,
    responses: {
      200: { description: 'one result per item, in order', schema: s.batchCheckResultSchema },
      400: badRequest,
      413: badRequest,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/v1/restricted',
    summary: 'The list now, or as it was applied at a past instant',
    auth: 'read',
    query: s.listQuerySchema,
    responses: { 200: { description: 'the list', schema: s.listSchema }, 400: badRequest, 503: unavailable },
  },
  {
    method: 'get',
    path: '/v1/restricted/changes',
    summary: 'Changes applied to the list, newest first',
    auth: 'read',
    query: s.changesQuerySchema,
    responses: { 200: { description: 'changes', schema: s.changesSchema }, 400: badRequest },
  },
  {
    method: 'get',
    path: '/v1/sync/status',
    summary: 'Sync health in words',
    auth: 'read',
    responses: { 200: { description: 'status', schema: s.statusSchema } },
  },
  {
    method: 'get',
    path: '/v1/sync/runs',
    summary: 'Recent sync runs, newest first, linked to the Temporal UI',
    auth: 'read',
    query: s.runsQuerySchema,
    responses: { 200: { description: 'runs', schema: s.runsSchema }, 400: badRequest },
  },
  {
    method: 'post',
    path: '/v1/sync',
    summary: 'Start a sync now (or get the one in progress); wait=true answers with the finished run',
    auth: 'admin',
    query: s.triggerQuerySchema,
    responses: {
      200: { description: 'the finished run (wait=true)', schema: s.runSchema },
      202: { description: 'started, or already in progress', schema: s.triggeredSchema },
      403: { description: 'needs an admin token', schema: s.errorSchema },
    },
  },
  decisionRoute('approve', 'Approve a run held by the removal guard'),
  decisionRoute('reject', 'Reject a run held by the removal guard: nothing is applied'),
  {
    method: 'get',
    path: '/',
    summary: 'The dashboard (HTML; sign in with a read or admin token)',
    auth: 'read',
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
  },
  ...(
    [
      ['get', '/sign-in', 'The dashboard sign-in form (HTML)'],
      [
        'post',
        '/sign-in',
        'Sign in with a read or admin token (form); sets an HttpOnly, SameSite=Strict session cookie',
      ],
      ['post', '/sign-out', 'Sign out (form)'],
      ['post', '/dashboard/sync', 'Start a sync from the dashboard (admin session and CSRF token)'],
      [
        'post',
        '/dashboard/runs/{workflow_id}/approve',
        'Approve a held run from the dashboard (admin session and CSRF token)',
      ],
      [
        'post',
        '/dashboard/runs/{workflow_id}/reject',
        'Reject a held run from the dashboard (admin session and CSRF token)',
      ],
    ] as const
  ).map(([method, path, summary]): Route => ({
    method,
    path,
    summary,
    auth: path.startsWith('/dashboard') ? 'admin' : 'none',
    responses:
      method === 'get'
        ? { 200: { description: 'HTML page', contentType: 'text/html' } }
        : { 303: { description: 'back to the dashboard' } },
  })),
  {
    method: 'get',
    path: '/healthz',
    summary: 'The process is alive',
    auth: 'none',
    responses: { 200: { description: 'alive', schema: s.healthSchema } },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'The database answers and a list is loaded',
    auth: 'none',
    responses: {
      200: { description: 'ready', schema: s.readinessSchema },
      503: { description: 'not ready', schema: s.readinessSchema },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    auth: 'none',
    responses: { 200: { description: 'text exposition format', contentType: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    auth: 'none',
    responses: { 200: { description: 'OpenAPI 3.1' } },
  },
];

function jsonSchema(schema: z.ZodType): unknown {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'output',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

/** OpenAPI 3.1 (whose schemas are JSON Schema 2020-12, what zod emits). */
export function buildOpenApiDocument(version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const parameters = [
      ...(route.path.includes('{workflow_id}')
        ? [{ name: 'workflow_id', in: 'path', required: true, schema: { type: 'string' } }]
        : []),
      ...Object.entries(route.query?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: 'query',
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: jsonSchema(schema as z.ZodType),
      })),
    ];
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      security: route.auth === 'none' ? [] : [{ bearer: [] }, { session: [] }],
      ...(route.auth === 'admin'
        ? { description: 'Needs an admin token (API_ADMIN_TOKENS); 403 otherwise.' }
        : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body) } },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.schema
              ? {
                  content: {
                    [response.contentType ?? 'application/json']: { schema: jsonSchema(response.schema) },
                  },
                }
              : {}),
          },
        ]),
      ),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'restricted-list-sync',
      version,
      description:
        "Pre-clearance checks against Compliance's restricted instruments list, synced from Confluence.",
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'a token from API_READ_TOKENS or API_ADMIN_TOKENS',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'rls_session',
          description: 'set by the dashboard sign-in form',
        },
      },
    },
    paths,
  };
}
