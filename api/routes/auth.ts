import { randomBytes } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import type { LoginThrottle } from '../auth/login-throttle';
import { verifyPassword } from '../auth/passwords';
import {
  csrfTokenFor,
  endSession,
  readSession,
  sessionToken,
  startSession,
  type SessionSettings,
} from '../auth/session';
import { ApiError } from '../errors';
import { applicationBody, credentialBody, loginBody } from '../schemas';
import { presentMe } from './me';

export interface AuthRouterDeps {
  db: Db;
  session: SessionSettings;
  publicBaseUrl: string;
  logger: Logger;
  loginThrottle: LoginThrottle;
  requireSession: RequestHandler;
}

const randomKey = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Time, consumer keys (the provider's public calls) under the API base path. */
export function apiAuthRouter({ db, publicBaseUrl }: Pick<AuthRouterDeps, 'db' | 'publicBaseUrl'>): Router {
  const router = Router();
  router.get('/auth/time', (_req, res) => {
    res.json(Math.floor(Date.now() / 1000));
  });
  router.post('/auth/credential', async (req, res) => {
    const appKey = req.header('x-ovh-application');
    const body = credentialBody.parse(req.body ?? {});
    const application = appKey ? await db.apiApplication.findUnique({ where: { appKey } }) : null;
    if (!application) throw new ApiError(403, 'invalidApplication', 'Unknown X-Ovh-Application');
    const key = await db.consumerKey.create({
      data: {
        key: randomKey(24),
        validationToken: randomKey(24),
        applicationId: application.id,
        accessRules: body.accessRules,
      },
    });
    const redirection = body.redirection ? `?redirection=${encodeURIComponent(body.redirection)}` : '';
    res.json({
      validationUrl: `${publicBaseUrl.replace(/\/$/, '')}/credential/${key.validationToken}${redirection}`,
      consumerKey: key.key,
      state: key.state,
    });
  });
  return router;
}

/** Portal session: log in, log out, who am I (with the CSRF token), applications and consumer-key approval. */
export function sessionRouter(deps: AuthRouterDeps): Router {
  const { db, session, logger } = deps;
  const router = Router();

  router.post('/auth/login', async (req, res) => {
    const { handle, password } = loginBody.parse(req.body ?? {});
    const throttleKey = `${req.ip}:${handle}`;
    if (deps.loginThrottle.isBlocked(throttleKey)) {
      logger.warn({ handle, ip: req.ip, requestId: req.requestId }, 'login blocked by rate limit');
      throw new ApiError(429, 'rateLimited', 'Too many failed attempts: wait a moment and try again');
    }
    const account = await db.account.findUnique({ where: { handle } });
    const valid = await verifyPassword(password, account?.passwordHash);
    if (!account || !valid) {
      deps.loginThrottle.recordFailure(throttleKey);
      logger.warn({ handle, ip: req.ip, requestId: req.requestId }, 'login failed');
      throw new ApiError(401, 'badCredentials', 'Wrong handle or password');
    }
    const token = startSession(session, res, account.id);
    res.json({ ...presentMe(account), csrfToken: csrfTokenFor(session, token) });
  });

  router.post('/auth/logout', (_req, res) => {
    endSession(session, res);
    res.status(204).end();
  });

  router.get('/auth/session', async (req, res) => {
    const token = sessionToken(req);
    const current = readSession(session, token);
    const account = current && (await db.account.findUnique({ where: { id: current.accountId } }));
    if (!account) throw new ApiError(401, 'notAuthenticated', 'Not logged in');
    res.json({ ...presentMe(account), csrfToken: csrfTokenFor(session, token!) });
  });

  router.post('/auth/applications', deps.requireSession, async (req, res) => {
    const { name } = applicationBody.parse(req.body ?? {});
    const application = await db.apiApplication.create({
      data: { name, appKey: randomKey(12), secret: randomKey(24) },
    });
    res.status(201).json({ applicationKey: application.appKey, applicationSecret: application.secret, name });
  });

  router.post('/auth/credential/:validationToken/validate', deps.requireSession, async (req, res) => {
    const updated = await db.consumerKey.updateMany({
      where: { validationToken: String(req.params.validationToken), state: 'pendingValidation' },
      data: { state: 'validated', accountId: req.account!.id, validatedAt: new Date() },
    });
    if (updated.count !== 1)
      throw new ApiError(
        404,
        'credentialNotFound',
        'This credential request does not exist or was already used',
      );
    res.json({ state: 'validated' });
  });

  return router;
}
