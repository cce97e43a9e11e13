import { z } from 'zod';
import type { Access, JsonResponse, Route } from './route.ts';
import { ROUTES } from './routes.ts';
import { errorSchema } from './schemas.ts';

/** JSON Schema 2020-12 (what OpenAPI 3.1 uses) of what a caller sends (`input`) or gets (`output`). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

/** The fields of a query or params schema: its object, before any transform of the whole. */
function fields(schema: z.ZodType): Record<string, z.ZodType> {
  let current: z.ZodType = schema;
  while (current instanceof z.ZodPipe) current = current.in as z.ZodType;
  return current instanceof z.ZodObject ? (current.shape as Record<string, z.ZodType>) : {};
}

const SECURITY: Record<Access, Record<string, string[]>[]> = {
  public: [],
  read: [{ bearer: [] }, { session: [] }],
  admin: [{ bearer: [] }],
  'admin-form': [{ bearer: [] }, { session: [] }],
};

const ACCESS_NOTES: Partial<Record<Access, string>> = {
  read: 'Needs a read or admin token (API_READ_TOKENS, API_ADMIN_TOKENS), as a bearer header or a dashboard session, when tokens are configured.',
  admin: 'Needs an admin token (API_ADMIN_TOKENS) as a bearer header; 403 otherwise.',
  'admin-form':
    'Needs an admin bearer token, or an admin dashboard session whose form carries its CSRF token, posted from this site; 403 otherwise.',
};

const jsonError = (description: string) => ({
  description,
  content: { 'application/json': { schema: jsonSchema(errorSchema, 'output') } },
});
const htmlPage = (description: string) => ({
  description,
  content: { 'text/html': { schema: { type: 'string' } } },
});

function responses(route: Route): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (route.kind === 'json') {
    const declared: Record<string, JsonResponse> = route.responses;
    for (const [status, { description, schema, contentType }] of Object.entries(declared)) {
      out[status] = {
        description,
        content: {
          [contentType ?? 'application/json']: schema ? { schema: jsonSchema(schema, 'output') } : {},
        },
      };
    }
  } else {
    for (const [status, description] of Object.entries(route.responses)) {
      out[status] =
        status === '303'
          ? { description, headers: { Location: { schema: { type: 'string' } } } }
          : {
              description,
              content: { [route.asset ? 'text/css' : 'text/html']: { schema: { type: 'string' } } },
            };
    }
  }
  const refusal = route.kind === 'json' ? jsonError : htmlPage;
  if (route.kind === 'json' && (route.query || route.body)) out['400'] = jsonError('invalid request');
  if (route.access === 'read') out['401'] = refusal('no valid token or session (when tokens are configured)');
  if (route.access === 'admin') out['403'] = refusal('needs an admin token');
  if (route.access === 'admin-form') out['403'] = refusal('needs an admin sign-in and the form’s CSRF token');
  for (const [status, description] of Object.entries(route.errors ?? {})) out[status] = refusal(description);
  return out;
}

/** OpenAPI 3.1 of every route of the table (the table's paths are written as OpenAPI writes them). */
export function buildOpenApiDocument(version: string, routes: readonly Route[] = ROUTES): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...Object.entries(route.params ? fields(route.params) : {}).map(([name, schema]) => ({
        name,
        in: 'path',
        required: true,
        schema: jsonSchema(schema, 'input'),
      })),
      ...Object.entries(route.query ? fields(route.query) : {}).map(([name, schema]) => ({
        name,
        in: 'query',
        required: !schema.safeParse(undefined).success,
        schema: jsonSchema(schema, 'input'),
      })),
    ];
    const note = ACCESS_NOTES[route.access];
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      ...(route.description || note
        ? { description: [route.description, note].filter(Boolean).join(' ') }
        : {}),
      security: SECURITY[route.access],
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: route.kind === 'json',
              content: {
                [route.kind === 'json' ? 'application/json' : 'application/x-www-form-urlencoded']: {
                  schema: jsonSchema(route.body, 'input'),
                },
              },
            },
          }
        : {}),
      responses: responses(route),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'restricted-list-sync',
      version,
      description:
        "Pre-clearance checks against Compliance's restricted instruments list, synced from Confluence. " +
        'A method a path does not list here answers 405 method_not_allowed, with an Allow header.',
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
