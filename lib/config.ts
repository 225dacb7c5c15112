import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { parseAllowedRange, type AllowedRange } from './webhook-targets';
import { z } from 'zod';
import { dkimSigning } from './dkim';
import { parseDuration } from './duration';

/** Values copied from examples and templates: anyone who read the same example could forge with them. */
const PLACEHOLDER =
  /change[\W_]*me|replace[\W_]*me|placeholder|example|dummy|insecure|not[\W_]*secret|your[\W_]*(secret|key)|secret[\W_]*key|default|xxxxxx/i;
const MIN_SECRET_LENGTH = 32;
const MIN_SECRET_BITS = 80;
const HOW_TO = 'generate one with: openssl rand -hex 32';

/** Shannon entropy of the characters as they occur, in bits for the whole string: a rough bound, but it
 * catches repeated characters and short alphabets ("kkkk…", "abab…", "0000…1111…"). */
export function estimatedEntropyBits(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * value.length;
}

/**
 * Runs such as "abcdef…" or "0123456789…": nearly all neighbouring characters one code point apart. Not "most":
 * in random hex about one pair in five is, and half of them was reached by about one random 32-character key
 * in 50,000 (a CI run drew one and refused it).
 */
function isSequence(value: string): boolean {
  let steps = 0;
  for (let i = 1; i < value.length; i++)
    if (Math.abs(value.charCodeAt(i) - value.charCodeAt(i - 1)) <= 1) steps++;
  return steps >= 0.8 * (value.length - 1);
}

export function secretProblem(value: string): string | undefined {
  if (value.length < MIN_SECRET_LENGTH)
    return `must be at least ${MIN_SECRET_LENGTH} characters of random secret; ${HOW_TO}`;
  if (PLACEHOLDER.test(value))
    return `is a placeholder value, public to anyone who read the example; ${HOW_TO}`;
  if (estimatedEntropyBits(value) < MIN_SECRET_BITS || isSequence(value)) {
    return `is too predictable (repeated or sequential characters); ${HOW_TO}`;
  }
  return undefined;
}

const secret = () =>
  z.string().superRefine((value, ctx) => {
    const problem = secretProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function validProxy(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (!version || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * Non-public ranges webhooks may reach all the same (lib/webhook-targets.ts): addresses or CIDR ranges, e.g. a
 * receiver on this host in tests (127.0.0.1/32) or on the operator's own network; none by default.
 */
const webhookAllowedTargets = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const ranges = entries.map(parseAllowedRange);
    const bad = entries.filter((_, i) => ranges[i] === undefined);
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `"${bad.join(', ')}" is not an IP address or a CIDR range` });
      return z.NEVER;
    }
    return ranges as AllowedRange[];
  });

/** Addresses of the reverse proxies whose X-Forwarded-For is believed; none by default. */
const trustedProxies = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const bad = entries.filter((entry) => !validProxy(entry));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `"${bad.join(', ')}" is not an IP address, a CIDR range, loopback, linklocal or uniquelocal`,
      });
      return z.NEVER;
    }
    return entries;
  });

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 30s, 15m, 12h or 7d` });
        return z.NEVER;
      }
      return ms;
    });

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.join(' or ')}//`,
  );

/** A file the process will read (a certificate or a key): refused at start-up when it cannot be read. */
const readableFile = z
  .string()
  .min(1)
  .refine((path) => {
    try {
      accessSync(path, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  }, 'must be a readable file');

export const configSchema = z
  .object({
    DATABASE_URL: url(['postgresql:', 'postgres:']),
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[\w.-]+:\d+$/, 'must be host:port')
      .default('localhost:7233'),
    /**
     * TLS to the Temporal frontend (docs/operations.md, "Temporal access"): the CA that signed the frontend's
     * certificate, and this process's client certificate and key for mutual TLS. Unset: plain gRPC.
     */
    TEMPORAL_TLS_CA_FILE: readableFile.optional(),
    TEMPORAL_TLS_CERT_FILE: readableFile.optional(),
    TEMPORAL_TLS_KEY_FILE: readableFile.optional(),
    /** The name to check the frontend's certificate against, when it is not TEMPORAL_ADDRESS's host. */
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('contact-changes'),
    TEMPORAL_SEARCH_ATTRIBUTES: z.enum(['on', 'off']).default('on'),
    SMTP_URL: url(['smtp:', 'smtps:']).default('smtp://127.0.0.1:1025'),
    MAIL_FROM: z.string().min(3).default('Contacts <no-reply@contacts.localhost>'),
    PUBLIC_BASE_URL: url(['http:', 'https:']).default('http://localhost:3000'),
    CODE_HASH_KEY: secret(),
    SESSION_SECRET: secret(),
    /** The SESSION_SECRET before a rotation: sessions it signed stay valid until they expire (12 h). */
    SESSION_SECRET_PREVIOUS: secret().optional(),
    TRUSTED_PROXIES: trustedProxies,
    TASK_EXPIRY: duration('7d'),
    REMINDER_BEFORE_EXPIRY: duration('2d'),
    RESEND_MIN_INTERVAL: duration('60s'),
    /** How long a new request waits for a worker to register its task before answering 503 (to retry). */
    TASK_REGISTRATION_TIMEOUT: duration('30s'),
    /** The most services one move may select (explicit list or filter): more is refused with 400 tooManyServices. */
    MOVE_MAX_SERVICES: z.coerce.number().int().min(1).max(1_000_000).default(100_000),
    /** Items a move applies per transaction (docs/decisions/moves.md: why 500); `npm run chaos` uses a small one. */
    MOVE_APPLY_CHUNK_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    API_PORT: port(3000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** PEM certificate and key: with both, the API serves HTTPS on TLS_PORT too (the provider's clients speak HTTPS only). */
    TLS_CERT_FILE: z.string().min(1).optional(),
    TLS_KEY_FILE: z.string().min(1).optional(),
    TLS_PORT: port(3443),
    /** The HTTPS address clients call (and sign); by default https://<PUBLIC_BASE_URL's host>:<TLS_PORT>. */
    PUBLIC_HTTPS_URL: url(['https:']).optional(),
    /** DKIM signing of outgoing mail (lib/dkim.ts): all three, or none. */
    DKIM_DOMAIN: z
      .string()
      .regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/i, 'must be a domain name')
      .optional(),
    DKIM_SELECTOR: z
      .string()
      .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/i, 'must be a DNS label')
      .optional(),
    DKIM_PRIVATE_KEY: z.string().optional(),
    DKIM_PRIVATE_KEY_FILE: z.string().optional(),
    /** Webhook deliveries: first retry wait (doubling up to WEBHOOK_RETRY_MAX), one attempt's timeout, when to give up. */
    WEBHOOK_RETRY_INITIAL: duration('5s'),
    WEBHOOK_RETRY_MAX: duration('1h'),
    WEBHOOK_TIMEOUT: duration('10s'),
    WEBHOOK_GIVE_UP_AFTER: duration('3d'),
    /** After a secret rotation the previous secret keeps signing (beside the new one) this long. */
    WEBHOOK_SECRET_OVERLAP: duration('24h'),
    /** How often the dispatcher looks for new events in the outbox. */
    WEBHOOK_DISPATCH_INTERVAL: duration('1s'),
    WEBHOOK_ALLOWED_TARGETS: webhookAllowedTargets,
    /** The worker serves Prometheus metrics on this port (/metrics), the Temporal SDK's own included; unset: none. */
    METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** Where the SDK's Prometheus exporter listens on loopback (merged into /metrics); by default METRICS_PORT + 1. */
    TEMPORAL_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /**
     * Workflows the worker keeps in memory between their tasks (its sticky cache): each costs about 0.2 MiB, and
     * a task of one that was evicted replays its history first (an open task's is 7 events). With 400 a full cache
     * measured 414-537 MiB (docs/performance.md); the SDK's default (about 2,300 with a 4 GiB heap) passed 700 MiB.
     */
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(2).default(400),
    /**
     * How long a workflow task waits for the worker that holds its workflow in its cache (the sticky queue)
     * before any worker takes it and replays the history. It bounds how long a task of a workflow the stopped
     * worker held waits after a restart, should the server not have been told of the stop.
     */
    WORKER_STICKY_QUEUE_TIMEOUT: duration('3s'),
    /**
     * The folder holding the prebundled workflow code (workflow-bundle.js, and workflow-bundle-traced.js for a worker
     * that traces), as `npm run build` writes it to dist/. Unset: beside the compiled worker, else the sources are
     * bundled at start (seconds, and about 100 MiB the process keeps). The worker refuses to start if it is set and
     * the file is missing.
     */
    WORKFLOW_BUNDLE_DIR: z.string().min(1).optional(),
  })
  .refine((c) => (c.TEMPORAL_TLS_CERT_FILE === undefined) === (c.TEMPORAL_TLS_KEY_FILE === undefined), {
    path: ['TEMPORAL_TLS_KEY_FILE'],
    message: 'TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together',
  })
  .refine((c) => (c.TLS_CERT_FILE === undefined) === (c.TLS_KEY_FILE === undefined), {
    path: ['TLS_KEY_FILE'],
    message: 'TLS_CERT_FILE and TLS_KEY_FILE go together',
  })
  .refine((c) => c.REMINDER_BEFORE_EXPIRY < c.TASK_EXPIRY, {
    path: ['REMINDER_BEFORE_EXPIRY'],
    message: 'must be shorter than TASK_EXPIRY',
  })
  .refine((c) => c.SESSION_SECRET !== c.CODE_HASH_KEY, {
    path: ['SESSION_SECRET'],
    message: 'must differ from CODE_HASH_KEY (one secret per purpose)',
  })
  .transform((config, ctx) => ({ ...config, DKIM: dkimSigning(config, ctx) }));

export type Config = z.infer<typeof configSchema>;

/** The API's HTTPS address when it serves TLS itself (undefined otherwise). */
export function publicHttpsUrl(config: Config): string | undefined {
  if (!config.TLS_CERT_FILE) return undefined;
  if (config.PUBLIC_HTTPS_URL) return config.PUBLIC_HTTPS_URL;
  const url = new URL(config.PUBLIC_BASE_URL);
  return `https://${url.hostname}${config.TLS_PORT === 443 ? '' : `:${config.TLS_PORT}`}`;
}

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** For process entry points: a bad configuration prints one line and stops the process. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
