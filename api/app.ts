import { randomUUID } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Client } from '@temporalio/client';
import { publicHttpsUrl, type Config } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createSmtpMailer, type Mailer } from '../activities/mailer';
import type { ApiMetrics } from '../lib/metrics';
import { authenticate, credentialsHoldBeforeBody } from './auth/authenticate';
import { HashingSlots, LoginThrottle, SharedCounter, type Limit } from './auth/login-throttle';
import { createContactChanges } from './contact-changes';
import { createContactMoves } from './contact-moves';
import { ApiError, errorBody, errorMiddleware, routeNotFound } from './errors';
import { buildOpenApiDocument } from './openapi';
import { measureRequests, metricsEndpoint, traceRequests } from './observability';
import { portalRouter } from './portal/router';
import { apiKeysRouter } from './routes/api-keys';
import { apiAuthRouter, sessionRouter } from './routes/auth';
import { healthRouter } from './routes/health';
import { meRouter } from './routes/me';
import { movesRouter } from './routes/moves';
import { servicesRouter } from './routes/services';
import { tasksRouter } from './routes/tasks';
import { webhooksRouter } from './routes/webhooks';
import { safeNextPath } from './safe-redirect';
import { markInvalidUtf8, validText } from './valid-text';
import type { TaskRegistrations } from '../lib/task-registrations';

export const API_BASE_PATH = '/1.0';

export interface AppDeps {
  db: Db;
  temporal: Client;
  config: Config;
  logger: Logger;
  /** Account mails (email change); by default one SMTP connection per mail, as they are rare. */
  mailer?: Mailer;
  /** Prometheus metrics of the requests, served on /metrics to loopback and private networks. */
  metrics?: ApiMetrics;
  /** A span per request (set when an OpenTelemetry exporter is configured). */
  tracing?: boolean;
  /** Lets tests turn rate limits off or down; production keeps the defaults. */
  rateLimits?: Partial<Record<keyof typeof DEFAULT_LIMITS, Limit>>;
  /** Password hashes computed at once; more logins at that moment are answered 503 at once. */
  concurrentPasswordHashing?: number;
  /** The announcements of new tasks' rows (lib/task-registrations.ts): a request's answer waits on them. */
  registrations?: TaskRegistrations;
}

const DEFAULT_LIMITS = {
  /** Failed logins for one handle from one address. */
  login: { limit: 10, windowMs: 15 * 60_000 },
  /** Failed logins for one handle, every address together. */
  loginPerHandle: { limit: 30, windowMs: 15 * 60_000 },
  /** Failed logins from one address, every handle together. */
  loginPerAddress: { limit: 50, windowMs: 15 * 60_000 },
  /** Consumer-key requests per address and per application. */
  credentialRequest: { limit: 20, windowMs: 60 * 60_000 },
  codeSubmission: { limit: 20, windowMs: 15 * 60_000 },
  resend: { limit: 10, windowMs: 60 * 60_000 },
};
const DEFAULT_CONCURRENT_PASSWORD_HASHING = 4;

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

/** Bearer tokens in paths (/credential/{token}) stay out of the logs. */
const loggablePath = (path: string) => path.replace(/(\/credential\/)[^/]+/, '$1…');

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
          path: loggablePath(req.path),
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
  const session = {
    secret: config.SESSION_SECRET,
    previousSecret: config.SESSION_SECRET_PREVIOUS,
    secure: config.PUBLIC_BASE_URL.startsWith('https:'),
  };
  const mailer = deps.mailer ?? createSmtpMailer(withoutPool(config.SMTP_URL), config.MAIL_FROM);
  const contactMoves = createContactMoves({ db, temporal, config });
  const contactChanges = createContactChanges({
    db,
    temporal,
    config,
    moves: contactMoves,
    registrations: deps.registrations,
  });
  const authSettings = {
    db,
    session,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    otherBaseUrls: [publicHttpsUrl(config)].filter((url) => url !== undefined),
    apiBasePath: API_BASE_PATH,
  };
  const requireAuth = authenticate(authSettings);
  const loginThrottle = new LoginThrottle(db, {
    perAddressAndHandle: limits.login,
    perHandle: limits.loginPerHandle,
    perAddress: limits.loginPerAddress,
  });
  const hashing = new HashingSlots(deps.concurrentPasswordHashing ?? DEFAULT_CONCURRENT_PASSWORD_HASHING);
  const byAccount = (req: express.Request) => req.account?.handle ?? req.ip ?? 'unknown';
  const openApi = buildOpenApiDocument(API_BASE_PATH);
  // One count per account for tasks and moves together: a move's routes are no way around the task's limits.
  const codeLimits = {
    codeSubmission: limiter('codeSubmission', limits.codeSubmission, logger, byAccount),
    resend: limiter('resend', limits.resend, logger, byAccount),
  };

  const app = express();
  // X-Forwarded-For is believed only from the configured proxies: otherwise a client chooses its own address.
  app.set('trust proxy', config.TRUSTED_PROXIES.length > 0 ? config.TRUSTED_PROXIES : false);
  app.disable('x-powered-by');
  app.use(requestIds, accessLog(logger));
  if (deps.tracing) app.use(traceRequests);
  if (deps.metrics) {
    app.use(measureRequests(deps.metrics));
    app.get('/metrics', metricsEndpoint(deps.metrics));
  }
  app.use(helmet({ referrerPolicy: { policy: 'no-referrer' }, strictTransportSecurity: false }));
  // HSTS only on https requests (TLS here, or X-Forwarded-Proto from a trusted proxy): over plain http it means nothing.
  const hsts = helmet.strictTransportSecurity();
  app.use((req, res, next) => (req.secure ? hsts(req, res, next) : next()));
  app.use(healthRouter(db, temporal));
  app.use(jsonOnly);
  const jsonUpTo = (limit: number | string) =>
    express.json({
      limit,
      strict: false,
      verify: (req, _res, buf) => {
        (req as express.Request).rawBody = buf;
        markInvalidUtf8(req as express.Request, buf);
      },
    });
  const smallJson = jsonUpTo('16kb');
  // A move's explicit list names up to MOVE_MAX_SERVICES services (255 characters each at most): its own limit,
  // for a caller whose credentials hold as far as they can be told without the body (authenticate checks the rest).
  const moveJson = jsonUpTo(16_384 + config.MOVE_MAX_SERVICES * 260);
  app.use((req, res, next) => {
    if (req.method !== 'POST' || req.path !== `${API_BASE_PATH}/me/contactMove`)
      return smallJson(req, res, next);
    credentialsHoldBeforeBody(authSettings, req).then(
      (holds) => (holds ? moveJson : smallJson)(req, res, next),
      next,
    );
  });
  // Before the text check, so that a `next` holding a tab is redirected rather than refused.
  app.get('/login', keepNextOnThisOrigin(config.PUBLIC_BASE_URL));
  app.use(validText);

  app.get(`${API_BASE_PATH}/openapi.json`, (_req, res) => {
    res.json(openApi);
  });
  // Answers about an account are never cached (/auth/session carries the CSRF token).
  app.use([API_BASE_PATH, '/auth'], noStore);
  app.use(
    API_BASE_PATH,
    apiAuthRouter({
      db,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      requireAuth,
      credentialLimits: {
        perAddress: new SharedCounter(db, 'credential-address', limits.credentialRequest),
        perApplication: new SharedCounter(db, 'credential-application', limits.credentialRequest),
      },
    }),
  );
  app.use(sessionRouter({ db, session, logger, loginThrottle, hashing }));
  app.use(
    API_BASE_PATH,
    requireAuth,
    meRouter({ db, mailer, publicBaseUrl: config.PUBLIC_BASE_URL, logger, hashing, loginThrottle }),
    apiKeysRouter(db),
    tasksRouter(contactChanges, codeLimits),
    servicesRouter(db, contactChanges),
    movesRouter(contactMoves, codeLimits),
    webhooksRouter(db, {
      secretOverlapMs: config.WEBHOOK_SECRET_OVERLAP,
      allowedTargets: config.WEBHOOK_ALLOWED_TARGETS,
    }),
  );
  app.use(portalRouter({ db, session }));
  app.use(routeNotFound);
  app.use(errorMiddleware(logger));
  return app;
}

/** After login the portal goes to `next`: only a path of this origin, whatever the link said. */
function keepNextOnThisOrigin(publicBaseUrl: string): RequestHandler {
  return (req, res, next) => {
    const wanted = typeof req.query.next === 'string' ? req.query.next : undefined;
    const safe = wanted === undefined ? undefined : safeNextPath(wanted, publicBaseUrl);
    if (wanted === undefined || safe === wanted) return next();
    res.redirect(safe ? `/login?next=${encodeURIComponent(safe)}` : '/login');
  };
}

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

function withoutPool(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  url.searchParams.set('pool', 'false');
  return url.toString();
}
