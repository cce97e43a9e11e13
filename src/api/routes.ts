import { NotFoundError } from './errors.ts';
import { answerCheckAtOnce } from './fast-check.ts';
import { html, json, type Route, type RouteDeps } from './route.ts';
import * as s from './schemas.ts';

/**
 * The route table: every endpoint of the contract ("HTTP API") once, with who may call it, its
 * request and response schemas and its handler. app.ts mounts it (and answers 405 for a method a
 * path does not declare), openapi.ts writes /openapi.json from it.
 */

const UNAVAILABLE = 'no sync has ever succeeded: the service never says "not restricted" without a list';
const NO_TEMPORAL = 'this API process has no Temporal connection';

/** A check refused by its schema counts as one `invalid` check. */
const countRefusedCheck = (deps: RouteDeps, seconds: number) =>
  deps.metrics?.recordChecks(['invalid'], seconds);

const decisionRoute = (decision: 'approve' | 'reject', summary: string) =>
  json({
    method: 'post',
    path: `/v1/sync/runs/{workflow_id}/${decision}`,
    summary,
    access: 'admin',
    params: s.workflowParamsSchema,
    responses: { 202: { description: 'signalled', schema: s.decisionSchema } },
    errors: { 404: 'no such run', 409: 'not awaiting approval', 503: NO_TEMPORAL },
    handler: async ({ params, principal }, { views }) => ({
      status: 202,
      body: await views.decide(params.workflow_id, decision === 'approve', principal),
    }),
  });

const dashboardDecisionRoute = (decision: 'approve' | 'reject', summary: string) =>
  html({
    method: 'post',
    path: `/dashboard/runs/{workflow_id}/${decision}`,
    summary,
    access: 'admin-form',
    params: s.workflowParamsSchema,
    body: s.csrfFormSchema,
    responses: { 303: 'back to the dashboard, which says what was done (or why not)' },
    handler: ({ req, res, principal, params }, { dashboard }) =>
      dashboard.decide(req, res, principal, params.workflow_id, decision === 'approve'),
  });

export const ROUTES: readonly Route[] = [
  json({
    method: 'get',
    path: '/v1/check',
    summary: 'Is this instrument restricted (now, or at a past instant)?',
    access: 'read',
    query: s.checkQuerySchema,
    responses: { 200: { description: 'the answer', schema: s.checkResultSchema } },
    errors: { 503: UNAVAILABLE },
    refused: countRefusedCheck,
    // The trading service's request before every trade: answered before the machinery when it can be.
    fast: answerCheckAtOnce,
    handler: async ({ query }, { answerChecks }) => {
      const [answer] = await answerChecks([query.item], query.at);
      return { status: 200, body: answer! };
    },
  }),
  json({
    method: 'post',
    path: '/v1/check',
    summary: 'Check 1 to 1000 instruments at once',
    access: 'read',
    body: s.batchCheckBodySchema,
    readBody: s.readBatchBody,
    responses: { 200: { description: 'one result per item, in order', schema: s.batchCheckResultSchema } },
    errors: { 413: 'the body is larger than 256 kB', 503: UNAVAILABLE },
    refused: countRefusedCheck,
    handler: async ({ body }, { answerBatch }) => ({
      status: 200,
      body: await answerBatch(body.items, body.at),
    }),
  }),
  json({
    method: 'get',
    path: '/v1/restricted',
    summary: 'The list now, or as it was applied at a past instant',
    access: 'read',
    query: s.listQuerySchema,
    responses: { 200: { description: 'the list', schema: s.listSchema } },
    errors: { 503: UNAVAILABLE },
    handler: async ({ query }, { views }) => ({ status: 200, body: await views.list(query) }),
  }),
  json({
    method: 'get',
    path: '/v1/restricted/changes',
    summary: 'Changes applied to the list, newest first',
    access: 'read',
    query: s.changesQuerySchema,
    responses: { 200: { description: 'changes', schema: s.changesSchema } },
    handler: async ({ query }, { views }) => ({ status: 200, body: { changes: await views.changes(query) } }),
  }),
  json({
    method: 'get',
    path: '/v1/sync/status',
    summary: 'Sync health in words',
    access: 'read',
    responses: { 200: { description: 'status', schema: s.statusSchema } },
    handler: async (_ctx, { views }) => ({ status: 200, body: await views.status() }),
  }),
  json({
    method: 'get',
    path: '/v1/sync/runs',
    summary: 'Recent sync runs, newest first, linked to the Temporal UI',
    access: 'read',
    query: s.runsQuerySchema,
    responses: { 200: { description: 'runs', schema: s.runsSchema } },
    handler: async ({ query }, { views }) => ({ status: 200, body: { runs: await views.runs(query.limit) } }),
  }),
  json({
    method: 'get',
    path: '/v1/sync/runs/{workflow_id}',
    summary: 'One run (its latest run of that workflow id) with its parse warnings and page checksums',
    access: 'read',
    params: s.workflowParamsSchema,
    responses: { 200: { description: 'the run', schema: s.runDetailSchema } },
    errors: { 404: 'no such run' },
    handler: async ({ params }, { views }) => ({
      status: 200,
      body: await views.runDetail(params.workflow_id),
    }),
  }),
  json({
    method: 'post',
    path: '/v1/sync',
    summary: 'Start a sync now (or get the one in progress); wait=true answers with the finished run',
    access: 'admin',
    query: s.triggerQuerySchema,
    responses: {
      200: { description: 'the finished run, or the run held for approval (wait=true)', schema: s.runSchema },
      202: { description: 'started, or already in progress', schema: s.triggeredSchema },
    },
    errors: { 503: NO_TEMPORAL },
    handler: async ({ query, principal }, { views }) => {
      const { finished, triggered } = await views.trigger(principal, query.wait);
      if (finished !== null) return { status: 200, body: finished };
      return {
        status: 202,
        body: {
          workflow_id: triggered.workflowId,
          run_id: triggered.runId,
          already_running: triggered.alreadyRunning,
        },
      };
    },
  }),
  decisionRoute('approve', 'Approve a run held by the removal guard'),
  decisionRoute('reject', 'Reject a run held by the removal guard: nothing is applied'),

  html({
    method: 'get',
    path: '/',
    summary: 'The dashboard (HTML; sign in with a read or admin token)',
    access: 'read',
    query: s.dashboardQuerySchema,
    responses: { 200: 'the dashboard', 303: 'to the sign-in form, without a session' },
    handler: ({ req, res, viewer, query }, { dashboard }) => dashboard.home(req, res, viewer!, query.q),
  }),
  html({
    method: 'get',
    path: '/sign-in',
    summary: 'The dashboard sign-in form (HTML)',
    access: 'public',
    responses: { 200: 'the sign-in form' },
    handler: ({ req, res }, { dashboard }) => dashboard.signInForm(req, res),
  }),
  html({
    method: 'post',
    path: '/sign-in',
    summary: 'Sign in with a read or admin token (form); sets an HttpOnly, SameSite=Strict session cookie',
    access: 'public',
    body: s.signInFormSchema,
    responses: { 303: 'signed in: to the dashboard' },
    errors: {
      400: 'no tokens are configured (the form again)',
      401: 'the token is not valid (the form again)',
      403: 'the form expired or came from another site',
    },
    handler: ({ req, res, body }, { dashboard }) => dashboard.signIn(req, res, body),
  }),
  html({
    method: 'post',
    path: '/sign-out',
    summary: 'Sign out (form)',
    access: 'public',
    body: s.csrfFormSchema,
    responses: { 303: 'to the sign-in form' },
    errors: { 403: 'the form is out of date or came from another site' },
    handler: ({ req, res, body }, { dashboard }) => dashboard.signOut(req, res, body),
  }),
  html({
    method: 'post',
    path: '/dashboard/sync',
    summary: 'Start a sync from the dashboard (admin session and CSRF token)',
    access: 'admin-form',
    body: s.csrfFormSchema,
    responses: { 303: 'back to the dashboard, which says what was done (or why not)' },
    handler: ({ req, res, principal }, { dashboard }) => dashboard.syncNow(req, res, principal),
  }),
  dashboardDecisionRoute('approve', 'Approve a held run from the dashboard (admin session and CSRF token)'),
  dashboardDecisionRoute('reject', 'Reject a held run from the dashboard (admin session and CSRF token)'),
  html({
    method: 'get',
    path: '/dashboard.css',
    summary: 'The dashboard’s stylesheet',
    access: 'public',
    asset: true,
    responses: { 200: 'text/css' },
    handler: ({ res }, { dashboard }) => dashboard.stylesheet(res),
  }),

  json({
    method: 'get',
    path: '/healthz',
    summary: 'The process is alive',
    access: 'public',
    responses: { 200: { description: 'alive', schema: s.healthSchema } },
    handler: () => ({ status: 200, body: { status: 'ok' as const } }),
  }),
  json({
    method: 'get',
    path: '/readyz',
    summary: 'The database answers and a list is loaded',
    access: 'public',
    responses: {
      200: { description: 'ready', schema: s.readinessSchema },
      503: { description: 'not ready', schema: s.readinessSchema },
    },
    handler: async (_ctx, { views }) => {
      const readiness = await views.readiness();
      return { status: readiness.ready ? 200 : 503, body: readiness };
    },
  }),
  json({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    access: 'public',
    responses: { 200: { description: 'text exposition format', contentType: 'text/plain' } },
    errors: { 404: 'this process keeps no metrics' },
    handler: async (_ctx, { metrics }) => {
      if (!metrics) throw new NotFoundError();
      return {
        status: 200,
        body: await metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
      };
    },
  }),
  json({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    access: 'public',
    responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
    handler: (_ctx, { openApiJson }) => ({ status: 200, body: openApiJson, contentType: 'application/json' }),
  }),
];
