import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config.ts';
import { bearerToken, readCookie, type Auth, type Principal } from './auth.ts';
import { errorPage, dashboardPage, signInPage, type Flash, type Viewer } from './dashboard/render.ts';
import { DASHBOARD_CSS } from './dashboard/style.ts';
import { bodyParserError, ForbiddenError, HttpError, UnauthorizedError } from './errors.ts';
import type { Views } from './views.ts';

export interface DashboardDeps {
  config: Config;
  auth: Auth;
  views: Views;
  logger?: { warn(message: string): void; error?(message: string): void };
  clock?: () => Date;
}

const FLASH_COOKIE = 'rls_flash';
const MAX_ROWS = 1000;
const RECENT_RUNS = 20;
const RECENT_CHANGES = 50;

/** No script at all, styles from this site only, never framed, no referrer leaving the site. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function securityHeaders(res: Response) {
  res.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  });
}

const ERROR_TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign-in needed',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Not possible now',
  413: 'Request too large',
  503: 'Temporarily unavailable',
};

/** The dashboard at GET / (server-rendered HTML, sign-in form, admin actions). */
export function createDashboardRouter(deps: DashboardDeps): Router {
  const { config, auth, views } = deps;
  const clock = deps.clock ?? (() => new Date());
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });

  const html = (res: Response, status: number, body: string) => {
    securityHeaders(res);
    res.status(status).type('html').send(body);
  };

  /** POST-redirect-GET: the message rides in a short-lived signed cookie, so nobody can plant one. */
  const redirectWithFlash = (req: Request, res: Response, to: string, flash: Flash) => {
    const value = auth.sign('flash', Buffer.from(JSON.stringify(flash)).toString('base64url'));
    res.cookie(FLASH_COOKIE, value, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
      maxAge: 60_000,
    });
    securityHeaders(res);
    res.redirect(303, to);
  };
  const takeFlash = (req: Request, res: Response): Flash | null => {
    const raw = readCookie(req, FLASH_COOKIE);
    if (raw === null) return null;
    res.clearCookie(FLASH_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
    const value = auth.unsign('flash', raw);
    if (value === null) return null;
    try {
      const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Flash;
      return { kind: parsed.kind === 'error' ? 'error' : 'info', text: String(parsed.text).slice(0, 500) };
    } catch {
      return null;
    }
  };

  /** Who is looking: a bearer header, a session, or anyone when no tokens are configured. */
  const viewerOf = (req: Request): Viewer | 'sign-in' | 'expired' | 'bad-bearer' => {
    const bearer = auth.bearerPrincipal(req);
    if (bearer !== null) return { principal: bearer, via: 'bearer', csrf: null };
    if (bearerToken(req) !== null) return 'bad-bearer';
    const session = auth.sessionOf(req);
    if (session === 'invalid') return 'expired';
    if (session !== null)
      return {
        principal: { name: session.name, role: session.role },
        via: 'session',
        csrf: auth.csrfToken(session),
      };
    return auth.open ? { principal: null, via: 'open', csrf: null } : 'sign-in';
  };

  router.get('/dashboard.css', (_req, res) => {
    res
      .set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'public, max-age=300' })
      .type('css')
      .send(DASHBOARD_CSS);
  });

  router.get('/', async (req, res) => {
    const viewer = viewerOf(req);
    if (viewer === 'bad-bearer') throw new UnauthorizedError('the bearer token is not valid');
    if (viewer === 'expired') {
      auth.clearSessionCookie(req, res);
      redirectWithFlash(req, res, '/sign-in', {
        kind: 'info',
        text: 'Your session has expired; sign in again.',
      });
      return;
    }
    if (viewer === 'sign-in') {
      securityHeaders(res);
      res.redirect(303, '/sign-in');
      return;
    }
    const rawQuery = req.query.q;
    const query = (
      typeof rawQuery === 'string' ? rawQuery : Array.isArray(rawQuery) ? String(rawQuery[0] ?? '') : ''
    )
      .trim()
      .slice(0, 100);
    const [status, runs, changes, list] = await Promise.all([
      views.status(),
      views.runs(RECENT_RUNS),
      views.changes({ since: null, limit: RECENT_CHANGES }),
      // Before the first successful sync there is no list: the page says so instead of showing an empty one.
      views.list({ at: null, includeInactive: false }).catch((error: unknown) => {
        if (error instanceof HttpError && error.code === 'list_unavailable') return null;
        throw error;
      }),
    ]);
    html(
      res,
      200,
      dashboardPage({
        now: clock(),
        viewer,
        adminConfigured: auth.adminConfigured,
        flash: takeFlash(req, res),
        status,
        list,
        query,
        maxRows: MAX_ROWS,
        runs,
        changes,
        staleAfterMinutes: config.staleAfterMinutes,
      }),
    );
  });

  router.get('/sign-in', (req, res) => {
    const flash = takeFlash(req, res);
    html(res, 200, signInPage({ csrf: auth.startSignIn(req, res), error: null, open: auth.open, flash }));
  });

  router.post('/sign-in', form, (req, res) => {
    if (!auth.sameOrigin(req))
      throw new ForbiddenError(
        'cross_site',
        'this form was posted from another site; open the sign-in page and try again',
      );
    const body = (req.body ?? {}) as Record<string, unknown>;
    const again = (status: number, error: string) =>
      html(
        res,
        status,
        signInPage({ csrf: auth.startSignIn(req, res), error, open: auth.open, flash: null }),
      );
    if (!auth.checkSignIn(req, body.csrf))
      return again(403, 'The sign-in form expired or came from another site; please try again.');
    if (auth.open) return again(400, 'No API tokens are configured, so there is nothing to sign in with.');
    const principal =
      typeof body.token === 'string' && body.token.trim() !== '' ? auth.signIn(body.token) : null;
    if (principal === null)
      return again(401, 'That token is not valid. Use a token from API_READ_TOKENS or API_ADMIN_TOKENS.');
    const { value } = auth.issueSession(principal);
    auth.setSessionCookie(req, res, value);
    res.clearCookie('rls_sign_in', { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
    redirectWithFlash(req, res, '/', {
      kind: 'info',
      text: `Signed in as ${principal.name} (${principal.role === 'admin' ? 'admin' : 'read only'}).`,
    });
  });

  router.post('/sign-out', form, (req, res) => {
    if (!auth.sameOrigin(req))
      throw new ForbiddenError('cross_site', 'this form was posted from another site');
    const session = auth.sessionOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (session !== null && session !== 'invalid' && !auth.checkCsrf(session, body.csrf)) {
      throw new ForbiddenError(
        'invalid_csrf',
        'the form is out of date or came from another site; reload the dashboard and try again',
      );
    }
    auth.clearSessionCookie(req, res);
    redirectWithFlash(req, res, '/sign-in', { kind: 'info', text: 'Signed out.' });
  });

  /** Runs an admin action; a refusal the user can act on (409, 404, 503) comes back as a flash message. */
  const action =
    (run: (principal: Principal, req: Request) => Promise<string>) => async (req: Request, res: Response) => {
      const principal = res.locals.principal as Principal;
      try {
        redirectWithFlash(req, res, '/', { kind: 'info', text: await run(principal, req) });
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        redirectWithFlash(req, res, '/', { kind: 'error', text: `Not done: ${error.message}.` });
      }
    };

  router.post(
    '/dashboard/sync',
    form,
    auth.requireAdminForm,
    action(async (principal) => {
      const { triggered } = await views.trigger(principal, false);
      return triggered.alreadyRunning
        ? `A sync is already running (${triggered.workflowId}); it was not started twice.`
        : `Sync started by ${principal.name} (${triggered.workflowId}). Reload to see its result.`;
    }),
  );

  const decide = (approve: boolean) =>
    action(async (principal, req) => {
      const decided = await views.decide(String(req.params.workflowId), approve, principal);
      return approve
        ? `Run ${decided.workflow_id} approved by ${principal.name}: its changes are being applied.`
        : `Run ${decided.workflow_id} rejected by ${principal.name}: the current list is kept.`;
    });
  router.post('/dashboard/runs/:workflowId/approve', form, auth.requireAdminForm, decide(true));
  router.post('/dashboard/runs/:workflowId/reject', form, auth.requireAdminForm, decide(false));

  // Dashboard errors are HTML pages with a plain message, never a stack trace.
  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    let status = 500;
    let message =
      'The dashboard could not be shown because of an internal error; please try again in a moment.';
    const known = error instanceof HttpError ? error : bodyParserError(error, true);
    if (known !== null) {
      status = known.status;
      message = known.message.charAt(0).toUpperCase() + known.message.slice(1) + '.';
    } else {
      const log = deps.logger?.error ?? deps.logger?.warn;
      log?.call(deps.logger, `dashboard error on ${req.method} ${req.path}: ${(error as Error)?.message}`);
    }
    const viewer = viewerOf(req);
    html(
      res,
      status,
      errorPage(
        status,
        ERROR_TITLES[status] ?? 'Something went wrong',
        message,
        typeof viewer === 'string' ? null : viewer,
      ),
    );
  });

  return router;
}
