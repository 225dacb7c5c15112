import { Router, type RequestHandler } from 'express';
import type { Db } from '../../lib/db';
import { parseDuration } from '../../lib/duration';
import type { Logger } from '../../lib/logger';
import { requirePortalSession } from '../auth/authenticate';
import {
  hashingBusy,
  type HashingSlots,
  type LoginThrottle,
  type SharedCounter,
} from '../auth/login-throttle';
import { verifyPassword } from '../auth/passwords';
import {
  activeSession,
  clearSessionCookie,
  csrfTokenFor,
  endAccountSessions,
  sessionToken,
  startSession,
  validCsrf,
  type SessionSettings,
} from '../auth/session';
import { newToken, tokenHash } from '../auth/tokens';
import { ApiError } from '../errors';
import {
  CREDENTIAL_VALIDITIES,
  credentialBody,
  loginBody,
  logoutBody,
  validateCredentialBody,
  validationTokenParams,
} from '../schemas';
import { presentCredential } from './api-keys';
import { presentMe } from './me';

/** How long a credential request waits for a person to answer it on the consent page. */
export const PENDING_CREDENTIAL_TTL_MS = 30 * 60_000;

export interface CredentialRequestLimits {
  perAddress: SharedCounter;
  perApplication: SharedCounter;
}

const tooMany = () => new ApiError(429, 'rateLimited', 'Too many attempts: wait a moment and try again');

const credentialNotFound = () =>
  new ApiError(
    404,
    'credentialNotFound',
    'This credential request does not exist, expired or was already answered',
  );

/** The provider's public calls under the API base path: time, asking for a consumer key, the consent page's calls. */
export function apiAuthRouter(deps: {
  db: Db;
  publicBaseUrl: string;
  requireAuth: RequestHandler;
  credentialLimits: CredentialRequestLimits;
}): Router {
  const { db, publicBaseUrl, requireAuth } = deps;
  const router = Router();
  router.get('/auth/time', (_req, res) => {
    res.json(Math.floor(Date.now() / 1000));
  });

  router.post('/auth/credential', async (req, res) => {
    const appKey = req.header('x-ovh-application');
    const body = credentialBody.parse(req.body ?? {});
    if (!(await deps.credentialLimits.perAddress.hit(req.ip ?? 'unknown'))) throw tooMany();
    const application = appKey ? await db.apiApplication.findUnique({ where: { appKey } }) : null;
    if (!application) throw new ApiError(403, 'invalidApplication', 'Unknown X-Ovh-Application');
    if (!(await deps.credentialLimits.perApplication.hit(String(application.id)))) throw tooMany();
    const consumerKey = newToken(24);
    const validationToken = newToken(24);
    await db.consumerKey.create({
      data: {
        keyHash: tokenHash(consumerKey),
        validationTokenHash: tokenHash(validationToken),
        applicationId: application.id,
        accessRules: body.accessRules,
        redirection: body.redirection ?? null,
        pendingUntil: new Date(Date.now() + PENDING_CREDENTIAL_TTL_MS),
      },
    });
    res.json({
      validationUrl: `${publicBaseUrl.replace(/\/$/, '')}/credential/${validationToken}`,
      consumerKey,
      state: 'pendingValidation',
    });
  });

  /** A pending request, for the consent page of the logged-in account. */
  async function pendingRequest(token: string) {
    const request = await db.consumerKey.findUnique({
      where: { validationTokenHash: tokenHash(token) },
      include: { application: true },
    });
    if (!request || request.state !== 'pendingValidation' || request.pendingUntil.getTime() <= Date.now()) {
      throw credentialNotFound();
    }
    return request;
  }

  router.get('/auth/credential/:validationToken', requireAuth, requirePortalSession, async (req, res) => {
    const { validationToken } = validationTokenParams.parse(req.params);
    const request = await pendingRequest(validationToken);
    res.json({
      application: { name: request.application.name, description: request.application.description },
      accessRules: request.accessRules,
      redirection: request.redirection,
      redirectionHost: request.redirection ? new URL(request.redirection).host : null,
      expiresAt: request.pendingUntil.toISOString(),
      validities: CREDENTIAL_VALIDITIES,
    });
  });

  for (const decision of ['validate', 'refuse'] as const) {
    router.post(
      `/auth/credential/:validationToken/${decision}`,
      requireAuth,
      requirePortalSession,
      async (req, res) => {
        const { validationToken } = validationTokenParams.parse(req.params);
        const body = decision === 'validate' ? validateCredentialBody.parse(req.body ?? {}) : undefined;
        const expiresAt = body ? expirationOf(body) : null;
        const request = await pendingRequest(validationToken);
        // One answer only, even when two tabs answer at once: the update counts the row still pending.
        const answered = await db.consumerKey.updateMany({
          where: { id: request.id, state: 'pendingValidation' },
          data: {
            state: decision === 'validate' ? 'validated' : 'refused',
            accountId: req.account!.id,
            validatedAt: decision === 'validate' ? new Date() : null,
            expiresAt,
          },
        });
        if (answered.count !== 1) throw credentialNotFound();
        res.json({
          state: decision === 'validate' ? 'validated' : 'refused',
          credentialId: request.id,
          expiration: expiresAt?.toISOString() ?? null,
          redirection: request.redirection,
        });
      },
    );
  }

  router.get('/auth/currentCredential', requireAuth, async (req, res) => {
    if (req.credentialId === undefined) {
      throw new ApiError(400, 'notSigned', 'Only a signed request has a current credential');
    }
    const key = await db.consumerKey.findUniqueOrThrow({ where: { id: req.credentialId } });
    res.json(presentCredential(key));
  });
  return router;
}

function expirationOf(body: { validity?: string; expiration?: string }): Date | null {
  if (body.validity === 'unlimited') return null;
  const at = body.validity ? Date.now() + parseDuration(body.validity)! : Date.parse(body.expiration!);
  if (at <= Date.now()) throw new ApiError(400, 'invalidInput', 'expiration: must be in the future');
  return new Date(at);
}

export interface SessionRouterDeps {
  db: Db;
  session: SessionSettings;
  logger: Logger;
  loginThrottle: LoginThrottle;
  hashing: HashingSlots;
}

/** Portal session: log in, log out (here or everywhere), who am I (with the CSRF token). */
export function sessionRouter(deps: SessionRouterDeps): Router {
  const { db, session, logger } = deps;
  const router = Router();

  router.post('/auth/login', async (req, res) => {
    const { handle, password } = loginBody.parse(req.body ?? {});
    const address = req.ip ?? 'unknown';
    const blockedBy = await deps.loginThrottle.blockedBy(address, handle);
    if (blockedBy) {
      logger.warn(
        { handle, ip: address, limit: blockedBy, requestId: req.requestId },
        'login blocked by rate limit',
      );
      throw new ApiError(429, 'rateLimited', 'Too many failed attempts: wait a moment and try again');
    }
    const account = await db.account.findUnique({ where: { handle } });
    const checked = await deps.hashing.run(() => verifyPassword(password, account?.passwordHash));
    if (!checked.done) {
      logger.warn({ handle, ip: address, requestId: req.requestId }, 'login refused: too many at once');
      throw hashingBusy();
    }
    if (!account || !checked.value) {
      await deps.loginThrottle.recordFailure(address, handle);
      logger.warn({ handle, ip: address, requestId: req.requestId }, 'login failed');
      throw new ApiError(401, 'badCredentials', 'Wrong handle or password');
    }
    await deps.loginThrottle.recordSuccess(address, handle);
    const token = await startSession(session, db, res, account.id);
    logger.info({ handle, ip: address, requestId: req.requestId }, 'login');
    res.json({ ...presentMe(account), csrfToken: csrfTokenFor(session, token) });
  });

  router.post('/auth/logout', async (req, res) => {
    const token = sessionToken(req);
    const current = await activeSession(session, db, token);
    if (current) {
      if (!validCsrf(session, token!, req.header('x-csrf-token'))) {
        throw new ApiError(403, 'csrfTokenInvalid', 'Missing or wrong X-CSRF-Token header');
      }
      const { everywhere } = logoutBody.parse(req.body ?? {});
      if (everywhere) await endAccountSessions(db, current.accountId);
      else await db.session.deleteMany({ where: { id: current.id } });
      logger.info({ accountId: current.accountId, everywhere, requestId: req.requestId }, 'logout');
    }
    clearSessionCookie(session, res);
    res.status(204).end();
  });

  router.get('/auth/session', async (req, res) => {
    const token = sessionToken(req);
    const current = await activeSession(session, db, token);
    const account = current && (await db.account.findUnique({ where: { id: current.accountId } }));
    if (!account) throw new ApiError(401, 'notAuthenticated', 'Not logged in');
    res.json({ ...presentMe(account), csrfToken: csrfTokenFor(session, token!) });
  });

  return router;
}
