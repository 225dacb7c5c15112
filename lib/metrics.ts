import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics (prom-client), one registry per process. Names follow Prometheus conventions: a `contacts_`
 * prefix, base units (seconds), `_total` for counters. What each one is for, and the alerts on them:
 * docs/observability.md.
 */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** From a request to its last acceptance or to the change applied: seconds to days. */
const TASK_BUCKETS = [1, 10, 60, 300, 1800, 3600, 4 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400];

function registry(component: 'api' | 'worker') {
  const register = new Registry();
  register.setDefaultLabels({ component });
  collectDefaultMetrics({ register, prefix: 'contacts_' });
  return register;
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export function createApiMetrics() {
  const register = registry('api');
  const labelNames = ['method', 'route', 'status'] as const;
  return {
    register,
    requests: new Counter({
      name: 'contacts_http_requests_total',
      help: 'API requests answered, by method, route pattern and status',
      labelNames,
      registers: [register],
    }),
    requestDuration: new Histogram({
      name: 'contacts_http_request_duration_seconds',
      help: 'Time to answer an API request, by method, route pattern and status',
      labelNames,
      buckets: DURATION_BUCKETS,
      registers: [register],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

export function createWorkerMetrics() {
  const register = registry('worker');
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [register] });
  return {
    register,
    tasksOpened: counter('contacts_tasks_opened_total', 'Contact-change tasks opened'),
    tasksEnded: counter('contacts_tasks_ended_total', 'Contact-change tasks ended, by final state', [
      'state',
    ]),
    timeToLastAcceptance: new Histogram({
      name: 'contacts_task_time_to_last_acceptance_seconds',
      help: 'From the request to the last acceptance',
      buckets: TASK_BUCKETS,
      registers: [register],
    }),
    timeToApplied: new Histogram({
      name: 'contacts_task_time_to_applied_seconds',
      help: 'From the request to the change applied',
      buckets: TASK_BUCKETS,
      registers: [register],
    }),
    mailsSent: counter('contacts_mails_sent_total', 'Mails the SMTP server accepted'),
    mailsFailed: counter(
      'contacts_mails_failed_total',
      'Mails the SMTP server refused or could not be reached for',
    ),
    mailActivityRetries: counter(
      'contacts_mail_retries_total',
      'Retries of a mail activity (an earlier attempt failed), by activity',
      ['activity'],
    ),
    codeRejections: counter(
      'contacts_code_rejections_total',
      'Codes refused, by outcome (wrongCode, locked)',
      ['outcome'],
    ),
    webhookAttempts: counter(
      'contacts_webhook_delivery_attempts_total',
      'Webhook delivery attempts, by outcome (delivered, failed)',
      ['outcome'],
    ),
    webhookGivenUp: counter('contacts_webhook_deliveries_given_up_total', 'Webhook deliveries given up'),
  };
}

/**
 * Serves /metrics: this registry, then (if given) the Temporal SDK's own Prometheus endpoint, so one scrape target
 * per process carries both.
 */
export function serveMetrics(register: Registry, port: number, sdkMetricsUrl?: string): Server {
  return createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void metricsText(register, sdkMetricsUrl).then(
      (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  }).listen(port);
}

export async function metricsText(register: Registry, sdkMetricsUrl?: string): Promise<string> {
  const own = await register.metrics();
  if (!sdkMetricsUrl) return own;
  const sdk = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) })
    .then((response) => response.text())
    .catch(() => '# Temporal SDK metrics unavailable\n');
  return `${own}\n${sdk}`;
}
