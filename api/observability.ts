import { isIP } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';
import type { ApiMetrics } from '../lib/metrics';
import { REQUEST_ID, withRequestId } from '../lib/tracing';

const API_BASE_PATH = '/1.0';

/**
 * The route pattern that answered (bounded, unlike the path), or "unmatched". Express has already restored
 * req.baseUrl when an error left the router, so the API's base path is put back from the URL.
 */
function routeOf(req: Request): string {
  if (!req.route) return 'unmatched';
  const path = String(req.route.path);
  const base = req.baseUrl || (req.originalUrl.startsWith(`${API_BASE_PATH}/`) ? API_BASE_PATH : '');
  return `${base}${path}`;
}

/** Requests by method, route and status, with their latency. */
export function measureRequests(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.requestDuration.startTimer();
    res.on('finish', () => {
      const labels = { method: req.method, route: routeOf(req), status: String(res.statusCode) };
      metrics.requests.inc(labels);
      stop(labels);
    });
    next();
  };
}

/**
 * One server span per request, carrying the request id (as an attribute, and as baggage for the workflow's
 * activities); the Temporal client interceptor continues the trace.
 */
export const traceRequests: RequestHandler = (req, res, next) => {
  trace.getTracer('contacts-api').startActiveSpan(
    `${req.method}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, [REQUEST_ID]: req.requestId },
    },
    withRequestId(context.active(), req.requestId),
    (span) => {
      res.on('finish', () => {
        const route = routeOf(req);
        span.updateName(`${req.method} ${route}`);
        span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      next();
    },
  );
};

/** Loopback and private networks only (where Prometheus scrapes from): not the address a proxy forwarded. */
export function fromInside(address: string | undefined): boolean {
  if (!address) return false;
  const ip = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(ip) === 6) return ip === '::1' || /^f[cd]/i.test(ip);
  return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip);
}

export function metricsEndpoint(metrics: ApiMetrics): RequestHandler {
  return async (req, res, next) => {
    if (!fromInside(req.socket.remoteAddress)) return next();
    res.type(metrics.register.contentType).send(await metrics.register.metrics());
  };
}
