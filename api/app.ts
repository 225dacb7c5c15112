import { randomUUID } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Client } from '@temporalio/client';
import { publicHttpsUrl, type Config } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { authenticate } from './auth/authenticate';
import { LoginThrottle } from './auth/login-throttle';
import { createContactChanges } from './contact-changes';
import { ApiError, errorBody, errorMiddleware, routeNotFound } from './errors';
import { buildOpenApiDocument } from './openapi';
import { portalRouter } from './portal/router';
import { apiAuthRouter, sessionRouter } from './routes/auth';
import { healthRouter } from './routes/health';
import { meRouter } from './routes/me';
import { servicesRouter } from './routes/services';
import { tasksRouter } from './routes/tasks';
import { webhooksRouter } from './routes/webhooks';

export const API_BASE_PATH = '/1.0';

export interface AppDeps {
  db: Db;
  temporal: Client;
  config: Config;
  logger: Logger;
  /** Lets tests turn rate limits off or down; production keeps the defaults. */
  rateLimits?: Partial<Record<'login' | 'codeSubmission' | 'resend', { limit: number; windowMs: number }>>;
}

const DEFAULT_LIMITS = {
  login: { limit: 10, windowMs: 15 * 60_000 },
  codeSubmission: { limit: 20, windowMs: 15 * 60_000 },
  resend: { limit: 10, windowMs: 60 * 60_000 },
};

function limiter(
  name: string,
  settings: { limit: number; windowMs: number },
  logger: Logger,
  key: (req: express.Request) => string,
) {
  return rateLimit({
    ...settings,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: key,
    validate: false,
    handler: (req, res) => {
      logger.warn({ limiter: name, key: key(req), requestId: req.requestId }, 'rate limit reached');
      res
        .status(429)
        .json(errorBody(429, 'rateLimited', 'Too many attempts: wait a moment and try again', req.requestId));
    },
  });
}

const requestIds: RequestHandler = (req, res, next) => {
  const incoming = req.header('x-request-id');
  req.requestId = incoming && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', req.requestId);
  next();
};

function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          requestId: req.requestId,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(ms),
        },
        'request',
      );
    });
    next();
  };
}

const jsonOnly: RequestHandler = (req, _res, next) => {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    return next(new ApiError(415, 'unsupportedMediaType', 'Send the body as application/json'));
  }
  next();
};

export function createApp(deps: AppDeps) {
  const { db, temporal, config, logger } = deps;
  const limits = { ...DEFAULT_LIMITS, ...deps.rateLimits };
  const session = { secret: config.SESSION_SECRET, secure: config.PUBLIC_BASE_URL.startsWith('https:') };
  const contactChanges = createContactChanges({ db, temporal, config });
  const requireAuth = authenticate({
    db,
    session,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    otherBaseUrls: [publicHttpsUrl(config)].filter((url) => url !== undefined),
    apiBasePath: API_BASE_PATH,
  });
  const byAccount = (req: express.Request) => req.account?.handle ?? req.ip ?? 'unknown';
  const openApi = buildOpenApiDocument(API_BASE_PATH);

  const app = express();
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  app.use(requestIds, accessLog(logger));
  app.use(helmet({ referrerPolicy: { policy: 'no-referrer' } }));
  app.use(healthRouter(db, temporal));
  app.use(jsonOnly);
  app.use(
    express.json({
      limit: '16kb',
      strict: false,
      verify: (req, _res, buf) => {
        (req as express.Request).rawBody = buf;
      },
    }),
  );

  app.get(`${API_BASE_PATH}/openapi.json`, (_req, res) => {
    res.json(openApi);
  });
  app.use(API_BASE_PATH, apiAuthRouter({ db, publicBaseUrl: config.PUBLIC_BASE_URL }));
  app.use(
    sessionRouter({
      db,
      session,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      logger,
      loginThrottle: new LoginThrottle(limits.login.limit, limits.login.windowMs),
      requireSession: requireAuth,
    }),
  );
  app.use(
    API_BASE_PATH,
    requireAuth,
    meRouter(db),
    tasksRouter(contactChanges, {
      codeSubmission: limiter('codeSubmission', limits.codeSubmission, logger, byAccount),
      resend: limiter('resend', limits.resend, logger, byAccount),
    }),
    servicesRouter(db, contactChanges),
    webhooksRouter(db, { secretOverlapMs: config.WEBHOOK_SECRET_OVERLAP }),
  );
  app.use(portalRouter({ db, session }));
  app.use(routeNotFound);
  app.use(errorMiddleware(logger));
  return app;
}
