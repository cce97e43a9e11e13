import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { Config } from '../config.ts';
import { bearerToken, readCookie, SIGN_IN_COOKIE, type Auth, type Principal } from './auth.ts';
import { dashboardPage, errorPage, signInPage, type Flash, type Viewer } from './dashboard/render.ts';
import { DASHBOARD_CSS } from './dashboard/style.ts';
import { ForbiddenError, HttpError, UnauthorizedError } from './errors.ts';
import type { Views } from './views.ts';

export interface DashboardDeps {
  config: Config;
  auth: Auth;
  views: Views;
  clock?: () => Date;
}

const FLASH_COOKIE = 'rls_flash';
const MAX_ROWS = 1000;
const RECENT_RUNS = 20;
const RECENT_CHANGES = 50;

/**
 * The dashboard's security headers: no script at all, styles from this site only, never framed, no
 * referrer leaving the site. Helmet's other headers stay off: the dashboard never sent them (HSTS
 * belongs to the TLS-terminating proxy, the others guard against what a page without script or
 * embeds cannot do). Helmet writes the CSP's directives separated by `;` without a space: the
 * same policy.
 */
const pageSecurityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  },
  xContentTypeOptions: true,
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'same-origin' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  crossOriginEmbedderPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  strictTransportSecurity: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xPoweredBy: false,
  xXssProtection: false,
});

/** Every dashboard page and redirect: helmet's headers, and no caching. */
const pageHeaders: RequestHandler = (req, res, next) => {
  // Not a helmet header: pages show live sync state and a CSRF token, so no cache may keep them.
  res.setHeader('Cache-Control', 'no-store');
  pageSecurityHeaders(req, res, next);
};

/** The stylesheet: not sniffed as anything else, and cached for a while (it changes with a deploy). */
const assetHeaders: RequestHandler = helmet.xContentTypeOptions();

const ERROR_TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign-in needed',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Not possible now',
  413: 'Request too large',
  503: 'Temporarily unavailable',
};

/**
 * The dashboard at GET / (server-rendered HTML, sign-in form, admin actions): what its routes in
 * the table (routes.ts) call, the guard of its read pages and its error page.
 */
export function createDashboard(deps: DashboardDeps) {
  const { config, auth, views } = deps;
  const clock = deps.clock ?? (() => new Date());

  const send = (res: Response, status: number, body: string) => {
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

  /** Runs an admin action; a refusal the user can act on (409, 404, 503) comes back as a flash message. */
  const act = async (req: Request, res: Response, run: () => Promise<string>) => {
    try {
      redirectWithFlash(req, res, '/', { kind: 'info', text: await run() });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      redirectWithFlash(req, res, '/', { kind: 'error', text: `Not done: ${error.message}.` });
    }
  };

  return {
    pageHeaders,
    assetHeaders,
    /** The forms' bodies: small, flat, few fields. */
    form: express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }),

    /**
     * The guard of the read pages: a browser without a session is sent to the sign-in form (an
     * expired session with a word why), a wrong bearer token is a 401.
     */
    requireViewer(req: Request, res: Response, next: NextFunction) {
      const viewer = viewerOf(req);
      if (viewer === 'bad-bearer') return next(new UnauthorizedError('the bearer token is not valid'));
      if (viewer === 'expired') {
        auth.clearSessionCookie(req, res);
        redirectWithFlash(req, res, '/sign-in', {
          kind: 'info',
          text: 'Your session has expired; sign in again.',
        });
        return;
      }
      if (viewer === 'sign-in') {
        res.redirect(303, '/sign-in');
        return;
      }
      res.locals.viewer = viewer;
      res.locals.principal = viewer.principal;
      next();
    },

    /** Dashboard errors are HTML pages with a plain message, never a stack trace; null is a 500. */
    sendError(req: Request, res: Response, error: HttpError | null) {
      const status = error?.status ?? 500;
      const message =
        error === null
          ? 'The dashboard could not be shown because of an internal error; please try again in a moment.'
          : error.message.charAt(0).toUpperCase() + error.message.slice(1) + '.';
      const viewer = viewerOf(req);
      send(
        res,
        status,
        errorPage(
          status,
          ERROR_TITLES[status] ?? 'Something went wrong',
          message,
          typeof viewer === 'string' ? null : viewer,
        ),
      );
    },

    stylesheet(res: Response) {
      res.set('Cache-Control', 'public, max-age=300').type('css').send(DASHBOARD_CSS);
    },

    async home(req: Request, res: Response, viewer: Viewer, query: string) {
      const [status, runs, changes, list, latest] = await Promise.all([
        views.status(),
        views.runs(RECENT_RUNS),
        views.changes({ since: null, limit: RECENT_CHANGES }),
        // Before the first successful sync there is no list: the page says so instead of showing an empty one.
        views.list({ at: null, includeInactive: false }).catch((error: unknown) => {
          if (error instanceof HttpError && error.code === 'list_unavailable') return null;
          throw error;
        }),
        // What the latest run read besides the list: its warnings and the pages' own counts.
        views.latestReading(),
      ]);
      send(
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
          latest,
          changes,
          staleAfterMinutes: config.staleAfterMinutes,
        }),
      );
    },

    signInForm(req: Request, res: Response) {
      const flash = takeFlash(req, res);
      send(res, 200, signInPage({ csrf: auth.startSignIn(req, res), error: null, open: auth.open, flash }));
    },

    signIn(req: Request, res: Response, form: { csrf?: string | undefined; token?: string | undefined }) {
      if (!auth.sameOrigin(req))
        throw new ForbiddenError(
          'cross_site',
          'this form was posted from another site; open the sign-in page and try again',
        );
      const again = (status: number, error: string) =>
        send(
          res,
          status,
          signInPage({ csrf: auth.startSignIn(req, res), error, open: auth.open, flash: null }),
        );
      if (!auth.checkSignIn(req, form.csrf))
        return again(403, 'The sign-in form expired or came from another site; please try again.');
      if (auth.open) return again(400, 'No API tokens are configured, so there is nothing to sign in with.');
      const principal = form.token !== undefined && form.token.trim() !== '' ? auth.signIn(form.token) : null;
      if (principal === null)
        return again(401, 'That token is not valid. Use a token from API_READ_TOKENS or API_ADMIN_TOKENS.');
      const { value } = auth.issueSession(principal);
      auth.setSessionCookie(req, res, value);
      res.clearCookie(SIGN_IN_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
      redirectWithFlash(req, res, '/', {
        kind: 'info',
        text: `Signed in as ${principal.name} (${principal.role === 'admin' ? 'admin' : 'read only'}).`,
      });
    },

    signOut(req: Request, res: Response, form: { csrf?: string | undefined }) {
      if (!auth.sameOrigin(req))
        throw new ForbiddenError('cross_site', 'this form was posted from another site');
      const session = auth.sessionOf(req);
      if (session !== null && session !== 'invalid' && !auth.checkCsrf(session, form.csrf)) {
        throw new ForbiddenError(
          'invalid_csrf',
          'the form is out of date or came from another site; reload the dashboard and try again',
        );
      }
      auth.clearSessionCookie(req, res);
      redirectWithFlash(req, res, '/sign-in', { kind: 'info', text: 'Signed out.' });
    },

    syncNow: (req: Request, res: Response, principal: Principal) =>
      act(req, res, async () => {
        const { triggered } = await views.trigger(principal, false);
        return triggered.alreadyRunning
          ? `A sync is already running (${triggered.workflowId}); it was not started twice.`
          : `Sync started by ${principal.name} (${triggered.workflowId}). Reload to see its result.`;
      }),

    decide: (req: Request, res: Response, principal: Principal, workflowId: string, approve: boolean) =>
      act(req, res, async () => {
        const decided = await views.decide(workflowId, approve, principal);
        return approve
          ? `Run ${decided.workflow_id} approved by ${principal.name}: its changes are being applied.`
          : `Run ${decided.workflow_id} rejected by ${principal.name}: the current list is kept.`;
      }),
  };
}

export type Dashboard = ReturnType<typeof createDashboard>;
