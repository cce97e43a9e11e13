import { createHmac, hash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApiToken, Config } from '../config.ts';
import { ForbiddenError, UnauthorizedError } from './errors.ts';

export interface Principal {
  name: string;
  role: 'read' | 'admin';
}

/** A dashboard sign-in: who, until when, and the random id its CSRF token is bound to. */
export interface Session extends Principal {
  id: string;
  expiresAt: Date;
}

export const SESSION_COOKIE = 'rls_session';
export const SIGN_IN_COOKIE = 'rls_sign_in';
/** A working day: long enough not to interrupt a compliance officer, short enough to expire overnight. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const SIGN_IN_TTL_MS = 60 * 60 * 1000;

/**
 * The configured tokens, found by a keyed hash of the one presented: one hash of it and one map
 * lookup, whichever token it is and whether it is one at all, so the time taken says nothing of
 * which token matched, or of how much of one a guess got right (no token is compared byte by byte,
 * none is tried before another). The key is random per process and no hash ever leaves it, so a
 * caller cannot compute the hashes the map compares, and timing the lookup cannot teach them a
 * stored hash either. An admin token wins over the same token listed as a read token, as before.
 */
function tokenTable(
  admin: readonly ApiToken[],
  read: readonly ApiToken[],
): (presented: string) => Principal | null {
  const key = randomBytes(32).toString('base64');
  // Keyed by a prefix rather than an HMAC (a fifth of the cost): no hash is ever shown to anyone,
  // so length extension gives nothing.
  const digest = (token: string) => hash('sha256', key + token, 'base64');
  const principals = new Map<string, Principal>();
  for (const [tokens, role] of [
    [admin, 'admin'],
    [read, 'read'],
  ] as const) {
    for (const token of tokens) {
      const hashed = digest(token.token);
      if (!principals.has(hashed)) principals.set(hashed, Object.freeze({ name: token.name, role }));
    }
  }
  return (presented) => principals.get(digest(presented)) ?? null;
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of an `Authorization: Bearer <token>` header value. */
export function bearerTokenOf(authorization: string | undefined): string | null {
  return authorization === undefined ? null : (BEARER.exec(authorization)?.[1] ?? null);
}

export function bearerToken(req: Request): string | null {
  return bearerTokenOf(req.get('authorization'));
}

export function readCookie(req: Request, name: string): string | null {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The session key comes from the configured tokens themselves: every replica with the same
 * configuration accepts the others' cookies, and rotating any token signs everybody out.
 * Without tokens no session is ever issued; the random key then only signs flash messages.
 */
function sessionKey(config: Config): Buffer {
  if (config.readTokens.length === 0 && config.adminTokens.length === 0) return randomBytes(32);
  const entries = [
    ...config.adminTokens.map((t) => `admin\u0000${t.name}\u0000${t.token}`),
    ...config.readTokens.map((t) => `read\u0000${t.name}\u0000${t.token}`),
  ].sort();
  return Buffer.from(
    hkdfSync('sha256', entries.join('\u0001'), 'restricted-list-sync', 'dashboard session v1', 32),
  );
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/**
 * Read endpoints (and the dashboard) need a read or admin token when tokens are configured (open
 * otherwise, with a warning at start-up): a bearer header, or the dashboard's signed session
 * cookie. JSON admin endpoints need an admin bearer token (403 without one); the dashboard's admin
 * forms take an admin session too, guarded against cross-site requests.
 */
export function createAuth(config: Config, options: { clock?: () => Date } = {}) {
  const clock = options.clock ?? (() => new Date());
  const open = config.readTokens.length === 0 && config.adminTokens.length === 0;
  const key = sessionKey(config);
  const mac = (purpose: string, value: string) =>
    createHmac('sha256', key).update(`${purpose}|${value}`).digest('base64url');

  const identify = tokenTable(config.adminTokens, config.readTokens);
  /** Who an Authorization header names; null without a bearer token or with one that is not valid. */
  const principalOfHeader = (authorization: string | undefined): Principal | null => {
    const token = bearerTokenOf(authorization);
    return token === null ? null : identify(token);
  };
  const bearerPrincipal = (req: Request): Principal | null => principalOfHeader(req.get('authorization'));

  /** `name.role.expiry.id.signature`: the name base64url-encoded, the expiry in epoch seconds. Never the token. */
  function issueSession(principal: Principal): { value: string; session: Session } {
    const expiresAt = new Date(Math.floor((clock().getTime() + SESSION_TTL_MS) / 1000) * 1000);
    const id = b64url(randomBytes(16));
    const payload = `${b64url(principal.name)}.${principal.role}.${expiresAt.getTime() / 1000}.${id}`;
    return { value: `${payload}.${mac('session', payload)}`, session: { ...principal, id, expiresAt } };
  }

  /** The session a cookie value proves, or null when it is forged, tampered, expired or its token is gone. */
  function verifySession(value: string): Session | null {
    const parts = value.split('.');
    if (parts.length !== 5 || open) return null;
    const [name64, role, expiry, id, signature] = parts as [string, string, string, string, string];
    if (!sameString(signature, mac('session', parts.slice(0, 4).join('.')))) return null;
    if (role !== 'read' && role !== 'admin') return null;
    if (!/^\d{1,12}$/.test(expiry)) return null;
    const expiresAt = new Date(Number(expiry) * 1000);
    if (expiresAt.getTime() <= clock().getTime()) return null;
    const name = Buffer.from(name64, 'base64url').toString('utf8');
    // The name must still hold a token of that role (a single read token must never mint an admin session).
    const holders = role === 'admin' ? config.adminTokens : config.readTokens;
    if (!holders.some((token) => token.name === name)) return null;
    return { name, role, id, expiresAt };
  }

  /** Null without a cookie; `invalid` when one is there but proves nothing. */
  function sessionOf(req: Request): Session | null | 'invalid' {
    const value = readCookie(req, SESSION_COOKIE);
    if (value === null || value === '') return null;
    return verifySession(value) ?? 'invalid';
  }

  const csrfToken = (session: Session) => mac('csrf', `${session.id}.${session.name}.${session.role}`);
  const checkCsrf = (session: Session, presented: unknown) =>
    typeof presented === 'string' && sameString(presented, csrfToken(session));

  const cookieOptions = (req: Request, maxAge: number) => ({
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: req.secure,
    path: '/',
    maxAge,
  });

  /**
   * The Origin header (or, without one, the Referer) must name this site. Neither present: the
   * CSRF token alone decides (some privacy tools strip both).
   */
  function sameOrigin(req: Request): boolean {
    const self = `${req.protocol}://${req.host ?? ''}`;
    const origin = req.get('origin');
    if (origin !== undefined) return origin === self;
    const referer = req.get('referer');
    if (referer === undefined) return true;
    try {
      return new URL(referer).origin === self;
    } catch {
      return false;
    }
  }

  const needsAdmin = () =>
    new ForbiddenError('forbidden', 'this action needs an admin token (API_ADMIN_TOKENS)');

  return {
    open,
    /** Admin actions are possible at all (otherwise refused, 403, like the JSON admin endpoints). */
    adminConfigured: config.adminTokens.length > 0,

    /** Who the request is: a valid bearer token first, otherwise a valid session cookie. */
    principalOf(req: Request): Principal | null {
      const fromBearer = bearerPrincipal(req);
      if (fromBearer !== null || bearerToken(req) !== null) return fromBearer;
      const session = sessionOf(req);
      return session === null || session === 'invalid' ? null : { name: session.name, role: session.role };
    },
    bearerPrincipal,
    principalOfHeader,
    sessionOf,
    /** Sign-in: the principal a presented token stands for (constant-time comparison). */
    signIn: (token: string): Principal | null => identify(token.trim()),
    issueSession,
    verifySession,
    csrfToken,
    checkCsrf,
    sameOrigin,

    setSessionCookie(req: Request, res: Response, value: string) {
      res.cookie(SESSION_COOKIE, value, cookieOptions(req, SESSION_TTL_MS));
    },
    clearSessionCookie(req: Request, res: Response) {
      res.clearCookie(SESSION_COOKIE, { ...cookieOptions(req, 0), maxAge: undefined });
    },

    /**
     * Login CSRF: the sign-in form carries a MAC of a random value kept in a SameSite=Strict
     * cookie, so a form posted from another site never signs a browser in.
     */
    startSignIn(req: Request, res: Response): string {
      let nonce = readCookie(req, SIGN_IN_COOKIE);
      if (nonce === null || !/^[\w-]{22}$/.test(nonce)) {
        nonce = b64url(randomBytes(16));
        res.cookie(SIGN_IN_COOKIE, nonce, cookieOptions(req, SIGN_IN_TTL_MS));
      }
      return mac('sign-in', nonce);
    },
    checkSignIn(req: Request, presented: unknown): boolean {
      const nonce = readCookie(req, SIGN_IN_COOKIE);
      return nonce !== null && typeof presented === 'string' && sameString(presented, mac('sign-in', nonce));
    },

    /** Signs a short message so a flash cookie cannot be planted to mislead the reader. */
    sign: (purpose: string, value: string) => `${value}.${mac(purpose, value)}`,
    unsign(purpose: string, signed: string): string | null {
      const dot = signed.lastIndexOf('.');
      if (dot === -1) return null;
      const value = signed.slice(0, dot);
      return sameString(signed.slice(dot + 1), mac(purpose, value)) ? value : null;
    },

    requireRead(req: Request, res: Response, next: NextFunction) {
      if (open) return next();
      const token = bearerToken(req);
      if (token !== null) {
        const principal = identify(token);
        if (principal === null) return next(new UnauthorizedError('the bearer token is not valid'));
        res.locals.principal = principal;
        return next();
      }
      const session = sessionOf(req);
      if (session === 'invalid')
        return next(new UnauthorizedError('the session has expired or is not valid; sign in again'));
      if (session === null)
        return next(new UnauthorizedError('a bearer token is required (Authorization: Bearer <token>)'));
      res.locals.principal = { name: session.name, role: session.role } satisfies Principal;
      next();
    },

    /** JSON admin endpoints: an admin bearer token only (a cookie would make them forgeable cross-site). */
    requireAdmin(req: Request, res: Response, next: NextFunction) {
      const principal = bearerPrincipal(req);
      if (principal?.role !== 'admin') return next(needsAdmin());
      res.locals.principal = principal;
      next();
    },

    /**
     * The dashboard's admin forms: an admin bearer token, or an admin session whose form carries
     * its CSRF token; either way a cross-site Origin/Referer is refused.
     */
    requireAdminForm(req: Request, res: Response, next: NextFunction) {
      if (!sameOrigin(req))
        return next(
          new ForbiddenError(
            'cross_site',
            'this form was posted from another site; open the dashboard and try again',
          ),
        );
      if (bearerToken(req) !== null) {
        const principal = bearerPrincipal(req);
        if (principal?.role !== 'admin') return next(needsAdmin());
        res.locals.principal = principal;
        return next();
      }
      const session = sessionOf(req);
      if (session === null || session === 'invalid') {
        return next(
          new ForbiddenError(
            'forbidden',
            'this action needs an admin sign-in (API_ADMIN_TOKENS); sign in with an admin token',
          ),
        );
      }
      const body = req.body as Record<string, unknown> | undefined;
      if (!checkCsrf(session, body?.csrf))
        return next(
          new ForbiddenError(
            'invalid_csrf',
            'the form is out of date or came from another site; reload the dashboard and try again',
          ),
        );
      if (session.role !== 'admin')
        return next(
          new ForbiddenError(
            'forbidden',
            'this action needs an admin token; you are signed in with a read token',
          ),
        );
      res.locals.principal = { name: session.name, role: session.role } satisfies Principal;
      next();
    },
  };
}

export type Auth = ReturnType<typeof createAuth>;
