import type { RequestHandler } from 'express';
import type { Db } from '../../lib/db';
import { ApiError } from '../errors';
import { activeSession, sessionToken, validCsrf, type SessionSettings } from './session';
import { ovhSignature, ruleAllows, signedOrigins, SIGNATURE_MAX_SKEW_S, type AccessRule } from './signature';
import { safeEqual, tokenHash } from './tokens';

export interface AuthAccount {
  id: number;
  handle: string;
  email: string;
  language: 'es' | 'en' | 'fr';
  billingStanding: 'good' | 'arrears';
}

export interface AuthSettings {
  db: Db;
  session: SessionSettings;
  publicBaseUrl: string;
  /** Other addresses the API answers on (its HTTPS listener), which signed requests may name. */
  otherBaseUrls?: string[];
  /** Prefix of the API routes, stripped before matching consumer-key access rules ("/1.0"). */
  apiBasePath: string;
}

const unauthorized = (reason: string, message: string) => new ApiError(401, reason, message);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A key's last use is written at most this often, not on every request. */
const LAST_USE_RESOLUTION_MS = 60_000;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The path that consumer-key access rules are written against: the request path without the API base. */
export function rulePath(originalUrl: string, apiBasePath: string): string {
  const path = originalUrl.split('?')[0];
  return path.startsWith(`${apiBasePath}/`) ? path.slice(apiBasePath.length) : path;
}

/** Accepts the provider's signed requests (scripts) or a session cookie with CSRF token (the portal). */
export function authenticate(settings: AuthSettings): RequestHandler {
  const origins = signedOrigins([settings.publicBaseUrl, ...(settings.otherBaseUrls ?? [])]);
  return async (req, _res, next) => {
    if (req.headers['x-ovh-application'] !== undefined) {
      req.account = await verifySignedRequest(settings, origins, req);
      req.authScheme = 'signature';
      return next();
    }
    const token = sessionToken(req);
    const session = await activeSession(settings.session, settings.db, token);
    if (!session)
      throw unauthorized('notAuthenticated', 'Log in, or sign the request with your application key');
    if (
      !SAFE_METHODS.has(req.method) &&
      !validCsrf(settings.session, token!, header(req.headers['x-csrf-token']))
    ) {
      throw new ApiError(403, 'csrfTokenInvalid', 'Missing or wrong X-CSRF-Token header');
    }
    req.account = session.account;
    req.authScheme = 'session';
    req.sessionId = session.id;
    req.sessionToken = token;
    next();
  };
}

/** For what only a person in the portal may do (approve a key, confirm an email, change the password). */
export const requirePortalSession: RequestHandler = (req, _res, next) => {
  if (req.authScheme !== 'session') {
    throw new ApiError(403, 'sessionRequired', 'Only a person logged in to the portal can do this');
  }
  next();
};

/** The consumer key a signed request names, checked as far as its headers go (the signature needs the body). */
async function signingKeyOf(settings: AuthSettings, req: Parameters<RequestHandler>[0]) {
  const applicationKey = header(req.headers['x-ovh-application']) ?? '';
  const consumerKey = header(req.headers['x-ovh-consumer']);
  const timestamp = header(req.headers['x-ovh-timestamp']);
  const signature = header(req.headers['x-ovh-signature']);
  if (!consumerKey || !timestamp || !signature) {
    throw unauthorized(
      'signatureMissing',
      'Signed requests need X-Ovh-Consumer, X-Ovh-Timestamp and X-Ovh-Signature',
    );
  }
  if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - Date.now() / 1000) > SIGNATURE_MAX_SKEW_S) {
    throw unauthorized(
      'timestampOutOfRange',
      'X-Ovh-Timestamp is too far from the server time (see GET /auth/time)',
    );
  }
  const key = await settings.db.consumerKey.findUnique({
    where: { keyHash: tokenHash(consumerKey) },
    include: { application: true, account: true },
  });
  if (!key || key.application.appKey !== applicationKey || key.state !== 'validated' || !key.account) {
    throw unauthorized('invalidCredential', 'This application key and consumer key are not valid together');
  }
  return { key, account: key.account, consumerKey, timestamp, signature };
}

/**
 * Whether the request's credentials hold as far as can be told before its body is read: a live session with its
 * CSRF token, or a validated, unexpired consumer key granted this route. Only such a request may send a body larger
 * than the usual one (a move's list): nobody else makes the server read and parse megabytes. The signature itself,
 * which covers the body, is checked by `authenticate` afterwards.
 */
export async function credentialsHoldBeforeBody(
  settings: AuthSettings,
  req: Parameters<RequestHandler>[0],
): Promise<boolean> {
  try {
    if (req.headers['x-ovh-application'] !== undefined) {
      const { key } = await signingKeyOf(settings, req);
      const path = rulePath(req.originalUrl, settings.apiBasePath);
      return (
        (!key.expiresAt || key.expiresAt.getTime() > Date.now()) &&
        ruleAllows(key.accessRules as unknown as AccessRule[], req.method, path)
      );
    }
    const token = sessionToken(req);
    const session = await activeSession(settings.session, settings.db, token);
    return session !== null && validCsrf(settings.session, token!, header(req.headers['x-csrf-token']));
  } catch {
    return false;
  }
}

async function verifySignedRequest(
  settings: AuthSettings,
  origins: string[],
  req: Parameters<RequestHandler>[0],
) {
  const { key, account, consumerKey, timestamp, signature } = await signingKeyOf(settings, req);
  const expected = origins.map((origin) =>
    ovhSignature({
      applicationSecret: key.application.secret,
      consumerKey,
      method: req.method,
      url: `${origin}${req.originalUrl}`,
      body: req.rawBody?.toString('utf8') ?? '',
      timestamp,
    }),
  );
  if (!expected.some((candidate) => safeEqual(candidate, signature))) {
    throw unauthorized('invalidSignature', 'X-Ovh-Signature does not match the request');
  }
  const now = Date.now();
  if (key.expiresAt && key.expiresAt.getTime() <= now) {
    throw unauthorized('credentialExpired', 'This consumer key has expired: ask for a new one');
  }
  const path = rulePath(req.originalUrl, settings.apiBasePath);
  if (!ruleAllows(key.accessRules as unknown as AccessRule[], req.method, path)) {
    throw new ApiError(403, 'notGranted', `This consumer key is not granted ${req.method} ${path}`);
  }
  if (!key.lastUseAt || now - key.lastUseAt.getTime() > LAST_USE_RESOLUTION_MS) {
    await settings.db.consumerKey.update({ where: { id: key.id }, data: { lastUseAt: new Date(now) } });
  }
  req.credentialId = key.id;
  return account;
}
