import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * Issue 11, findings 1 and 3 (deployment): the compose files ship no secret of their own, publish Temporal's
 * frontend and Web UI on loopback only, and keep the UI read-only unless an operator login is configured.
 * Values are read as Compose interpolates them, with only the variables the test gives.
 */
const root = join(__dirname, '..', '..');
const composeFiles = readdirSync(root).filter((name) => /^docker-compose.*\.ya?ml$/.test(name));

interface Service {
  environment?: Record<string, unknown> | string[];
  ports?: (string | { host_ip?: string; published?: string | number })[];
}
const load = (file: string): Record<string, Service> =>
  // merge: Compose resolves YAML's merge keys (the worker's `<<: *app-env`).
  (parse(readFileSync(join(root, file), 'utf8'), { merge: true }) as { services?: Record<string, Service> })
    .services ?? {};

class MissingVariable extends Error {}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $$. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (match, name, colon, kind, rest) => {
      if (match === '$$') return '$';
      const set = name in env && (colon !== ':' || env[name] !== '');
      if (set) return env[name];
      if (kind === '?') throw new MissingVariable(`${name}: ${rest}`);
      return kind === '-' ? rest : '';
    },
  );
}

function environmentOf(service: Service): Record<string, string> {
  const { environment } = service;
  if (!environment) return {};
  if (Array.isArray(environment))
    return Object.fromEntries(
      environment.map((line) => [line.split('=')[0], line.split('=').slice(1).join('=')]),
    );
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, String(value ?? '')]));
}

const secretName = /SECRET|_KEY$|TOKEN|PASSWORD/;
const DATABASE_PASSWORDS = new Set(['POSTGRES_PASSWORD', 'POSTGRES_PWD']);

test.each(composeFiles)(
  '%s ships no default secret: each one must be given, or compose refuses to start',
  (file) => {
    const checked: string[] = [];
    for (const [serviceName, service] of Object.entries(load(file))) {
      for (const [key, raw] of Object.entries(environmentOf(service))) {
        // The databases' passwords guard servers that are never published outside the compose network.
        if (!secretName.test(key) || DATABASE_PASSWORDS.has(key)) continue;
        checked.push(`${serviceName}.${key}`);
        expect(() => interpolate(raw, {})).toThrow(MissingVariable);
        expect(interpolate(raw, { [key]: 'given-by-the-operator' })).toBe('given-by-the-operator');
      }
    }
    if (file === 'docker-compose.yml') {
      expect(checked).toEqual(
        expect.arrayContaining(['api.CODE_HASH_KEY', 'api.SESSION_SECRET', 'worker.CODE_HASH_KEY']),
      );
    }
  },
);

const secrets = { CODE_HASH_KEY: 'k'.repeat(64), SESSION_SECRET: 's'.repeat(64) };

function publishedHosts(service: Service): string[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== 'string') return port.host_ip ?? '0.0.0.0';
    const parts = interpolate(port, secrets).split(':');
    return parts.length === 3 ? parts[0] : '0.0.0.0';
  });
}

test('docker-compose.yml publishes Temporal, its Web UI and the mailbox on loopback only; only the API is public', () => {
  const services = load('docker-compose.yml');
  for (const name of ['temporal', 'temporal-ui']) {
    expect(publishedHosts(services[name]).length).toBeGreaterThan(0);
  }
  for (const [name, service] of Object.entries(services)) {
    if (name === 'api') continue;
    for (const host of publishedHosts(service)) expect(`${name} on ${host}`).toBe(`${name} on 127.0.0.1`);
  }
});

test("the Temporal Web UI's write actions are off unless an operator login is configured", () => {
  const ui = (services: Record<string, Service>) =>
    Object.fromEntries(
      Object.entries(environmentOf(services['temporal-ui'] ?? {})).map(([key, raw]) => {
        try {
          return [key, interpolate(raw, secrets)];
        } catch {
          return [key, '(required)'];
        }
      }),
    );
  const base = ui(load('docker-compose.yml'));
  expect(base.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
  expect(base.TEMPORAL_AUTH_ENABLED ?? 'false').toBe('false');

  // Any file that turns the write actions on must also turn the login on, with its provider required.
  for (const file of composeFiles) {
    const env = ui(load(file));
    if (env.TEMPORAL_DISABLE_WRITE_ACTIONS !== 'false') continue;
    expect(`${file}: ${env.TEMPORAL_AUTH_ENABLED}`).toBe(`${file}: true`);
    for (const key of [
      'TEMPORAL_AUTH_PROVIDER_URL',
      'TEMPORAL_AUTH_CLIENT_ID',
      'TEMPORAL_AUTH_CALLBACK_URL',
    ]) {
      expect(`${file}: ${key}=${env[key]}`).toBe(`${file}: ${key}=(required)`);
    }
  }
});
