import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

/** Stateless signed session cookie: survives API restarts and scales out without a session store. */
export const SESSION_COOKIE = 'contacts_session';
const SESSION_TTL_MS = 12 * 3_600_000;

export interface SessionSettings {
  secret: string;
  secure: boolean;
}

function sign(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of header?.split(';') ?? []) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    const name = part.slice(0, index).trim();
    try {
      cookies[name] = decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      // a malformed cookie is ignored, not an error
    }
  }
  return cookies;
}

export function sessionToken(req: Request): string | undefined {
  return parseCookies(req.headers.cookie)[SESSION_COOKIE];
}

export function readSession(
  settings: SessionSettings,
  token: string | undefined,
): { accountId: number } | undefined {
  if (!token) return undefined;
  const [payload, signature] = token.split('.');
  if (!payload || !signature || !safeEqual(signature, sign(settings.secret, payload))) return undefined;
  const [accountId, expiresAt] = Buffer.from(payload, 'base64url').toString().split(':').map(Number);
  if (!Number.isInteger(accountId) || !(expiresAt > Date.now())) return undefined;
  return { accountId };
}

export function startSession(settings: SessionSettings, res: Response, accountId: number): string {
  const payload = Buffer.from(`${accountId}:${Date.now() + SESSION_TTL_MS}`).toString('base64url');
  const token = `${payload}.${sign(settings.secret, payload)}`;
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: settings.secure,
    maxAge: SESSION_TTL_MS,
    path: '/',
  });
  return token;
}

export function endSession(settings: SessionSettings, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: settings.secure, path: '/' });
}

/** The CSRF token is bound to the session: pages send it back in X-CSRF-Token on every change. */
export function csrfTokenFor(settings: SessionSettings, token: string): string {
  return sign(settings.secret, `csrf:${token}`);
}

export function validCsrf(settings: SessionSettings, token: string, presented: string | undefined): boolean {
  return typeof presented === 'string' && safeEqual(presented, csrfTokenFor(settings, token));
}
