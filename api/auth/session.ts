import { createHmac } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Account } from '../../generated/prisma/client';
import type { Db } from '../../lib/db';
import { newToken, safeEqual, tokenHash } from './tokens';

/**
 * Portal sessions. The cookie is a random token signed with SESSION_SECRET (so a forged cookie is turned away
 * without a database read); the session itself is a row keyed by the token's hash, so logging out, changing
 * the password or email, or "log out everywhere" ends it on the server at once.
 */
export const SESSION_COOKIE = 'contacts_session';
export const SESSION_TTL_MS = 12 * 3_600_000;

export interface SessionSettings {
  secret: string;
  /** The secret before the last rotation: cookies and CSRF tokens it signed stay valid until they expire. */
  previousSecret?: string;
  secure: boolean;
}

export interface ActiveSession {
  id: number;
  accountId: number;
  /** Read with the session: every authenticated request needs it. */
  account: Pick<Account, 'id' | 'handle' | 'email' | 'language' | 'billingStanding'>;
}

function sign(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

function signedBy(settings: SessionSettings, value: string, signature: string): boolean {
  return [settings.secret, settings.previousSecret].some(
    (secret) => secret !== undefined && safeEqual(signature, sign(secret, value)),
  );
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

/** Checks the cookie's signature and age only; `activeSession` also checks that it was not ended. */
export function readSession(
  settings: SessionSettings,
  token: string | undefined,
): { accountId: number } | undefined {
  if (!token) return undefined;
  const [payload, signature] = token.split('.');
  if (!payload || !signature || !signedBy(settings, payload, signature)) return undefined;
  const [accountId, expiresAt] = Buffer.from(payload, 'base64url').toString().split(':').map(Number);
  if (!Number.isInteger(accountId) || !(expiresAt > Date.now())) return undefined;
  return { accountId };
}

export async function activeSession(
  settings: SessionSettings,
  db: Db,
  token: string | undefined,
): Promise<ActiveSession | undefined> {
  const signed = readSession(settings, token);
  if (!signed) return undefined;
  // The session and its account in one statement: every authenticated request runs it, and two Prisma queries
  // (even at once) cost the API twice the CPU of one (docs/performance.md, 2026-12-07). Timestamps are UTC.
  const [row] = await db.$queryRaw<(ActiveSession['account'] & { sessionId: number })[]>`
    SELECT s.id AS "sessionId", a.id, a.handle, a.email, a.language::text AS language,
           a.billing_standing::text AS "billingStanding"
      FROM session s JOIN account a ON a.id = s.account_id
     WHERE s.token_hash = ${tokenHash(token!)} AND s.account_id = ${signed.accountId}
       AND s.expires_at > now() AT TIME ZONE 'UTC'`;
  if (!row) return undefined;
  const { sessionId, ...account } = row;
  return { id: sessionId, accountId: account.id, account };
}

export async function startSession(
  settings: SessionSettings,
  db: Db,
  res: Response,
  accountId: number,
): Promise<string> {
  const expiresAt = Date.now() + SESSION_TTL_MS;
  const payload = Buffer.from(`${accountId}:${expiresAt}:${newToken(24)}`).toString('base64url');
  const token = `${payload}.${sign(settings.secret, payload)}`;
  await db.session.create({
    data: { tokenHash: tokenHash(token), accountId, expiresAt: new Date(expiresAt) },
  });
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: settings.secure,
    maxAge: SESSION_TTL_MS,
    path: '/',
  });
  return token;
}

export function clearSessionCookie(settings: SessionSettings, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: settings.secure, path: '/' });
}

/** Ends every session of the account, except `keep` (the session that made the change) when given. */
export async function endAccountSessions(db: Db, accountId: number, keep?: number): Promise<number> {
  const ended = await db.session.deleteMany({
    where: { accountId, ...(keep === undefined ? {} : { id: { not: keep } }) },
  });
  // Expired rows of everyone go at the same time: the table holds live sessions only, without a sweeper.
  await db.session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return ended.count;
}

/** The CSRF token is bound to the session: pages send it back in X-CSRF-Token on every change. */
export function csrfTokenFor(settings: SessionSettings, token: string): string {
  return sign(settings.secret, `csrf:${token}`);
}

export function validCsrf(settings: SessionSettings, token: string, presented: string | undefined): boolean {
  return typeof presented === 'string' && signedBy(settings, `csrf:${token}`, presented);
}
