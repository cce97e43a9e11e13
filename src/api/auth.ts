import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApiToken, Config } from '../config.ts';
import { HttpError } from './errors.ts';

export interface Principal {
  name: string;
  role: 'read' | 'admin';
}

function sameToken(presented: Buffer, expected: string): boolean {
  const wanted = Buffer.from(expected);
  return presented.length === wanted.length && timingSafeEqual(presented, wanted);
}

/** Finds the token among the configured ones, comparing every one in constant time. */
function identify(presented: string, admin: readonly ApiToken[], read: readonly ApiToken[]): Principal | null {
  const bytes = Buffer.from(presented);
  let found: Principal | null = null;
  for (const token of admin) if (sameToken(bytes, token.token) && found === null) found = { name: token.name, role: 'admin' };
  for (const token of read) if (sameToken(bytes, token.token) && found === null) found = { name: token.name, role: 'read' };
  return found;
}

export function bearerToken(req: Request): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1] ?? null;
}

/**
 * Read endpoints need a read or admin token when tokens are configured (open otherwise, with a
 * warning at start-up); admin endpoints always need an admin token (403 without one).
 */
export function createAuth(config: Config) {
  const open = config.readTokens.length === 0 && config.adminTokens.length === 0;
  const principalOf = (req: Request): Principal | null => {
    const token = bearerToken(req);
    return token === null ? null : identify(token, config.adminTokens, config.readTokens);
  };
  return {
    open,
    principalOf,
    requireRead(req: Request, res: Response, next: NextFunction) {
      if (open) return next();
      const token = bearerToken(req);
      if (token === null) return next(new HttpError(401, 'unauthorized', 'a bearer token is required (Authorization: Bearer <token>)'));
      const principal = principalOf(req);
      if (principal === null) return next(new HttpError(401, 'unauthorized', 'the bearer token is not valid'));
      res.locals.principal = principal;
      next();
    },
    requireAdmin(req: Request, res: Response, next: NextFunction) {
      const principal = principalOf(req);
      if (principal?.role !== 'admin') return next(new HttpError(403, 'forbidden', 'this action needs an admin token (API_ADMIN_TOKENS)'));
      res.locals.principal = principal;
      next();
    },
  };
}
