import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../lib/config';

const good = {
  DATABASE_URL: 'postgresql://contacts@localhost:5432/contacts',
  CODE_HASH_KEY: '3f9c1a7e52b84d06e1c7a9f2035b6d48',
  SESSION_SECRET: 'Qm7vT2xK9pL4sW8nE1rY6uH3jB5cZ0aD',
};

test('a good configuration gets its defaults, durations in milliseconds', () => {
  const config = parseConfig(good);
  expect(config.TASK_EXPIRY).toBe(7 * 86_400_000);
  expect(config.REMINDER_BEFORE_EXPIRY).toBe(2 * 86_400_000);
  expect(config.TEMPORAL_ADDRESS).toBe('localhost:7233');
  expect(config.SMTP_URL).toBe('smtp://127.0.0.1:1025');
  expect(config.MOVE_APPLY_CHUNK_SIZE).toBe(500);
});

test.each([
  [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
  [{ CODE_HASH_KEY: 'short' }, 'CODE_HASH_KEY'],
  [{ TRUSTED_PROXIES: '10.0.0.1, not-an-address' }, 'TRUSTED_PROXIES'],
  [{ TRUSTED_PROXIES: '10.0.0.0/33' }, 'TRUSTED_PROXIES'],
  [{ TASK_EXPIRY: 'seven days' }, 'TASK_EXPIRY'],
  [{ TASK_EXPIRY: '1d', REMINDER_BEFORE_EXPIRY: '2d' }, 'REMINDER_BEFORE_EXPIRY'],
  [{ TEMPORAL_ADDRESS: 'no port' }, 'TEMPORAL_ADDRESS'],
  [{ SMTP_URL: 'http://mail' }, 'SMTP_URL'],
  [{ API_PORT: '70000' }, 'API_PORT'],
  [{ MOVE_APPLY_CHUNK_SIZE: '0' }, 'MOVE_APPLY_CHUNK_SIZE'],
  [{ MOVE_APPLY_CHUNK_SIZE: 'many' }, 'MOVE_APPLY_CHUNK_SIZE'],
])('refuses %o naming %s', (override, name) => {
  expect(() => parseConfig({ ...good, ...override })).toThrow(ConfigError);
  expect(() => parseConfig({ ...good, ...override })).toThrow(new RegExp(`^invalid configuration: ${name}`));
});

test.each(['worker/main.ts', 'api/server.ts'])(
  '%s refuses to start with a bad configuration, in one line',
  (entry) => {
    let stderr = '';
    let status = 0;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', entry], {
        cwd: join(__dirname, '..', '..'),
        env: { PATH: process.env.PATH, ...good, TASK_EXPIRY: 'forever' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (error) {
      status = (error as { status: number }).status;
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      'invalid configuration: TASK_EXPIRY "forever" is not a duration such as 30s, 15m, 12h or 7d',
    ]);
  },
);

test('trusted proxies: none by default, else addresses, ranges and the names Express knows', () => {
  expect(parseConfig(good).TRUSTED_PROXIES).toEqual([]);
  expect(parseConfig({ ...good, TRUSTED_PROXIES: '10.0.0.0/8, ::1,loopback' }).TRUSTED_PROXIES).toEqual([
    '10.0.0.0/8',
    '::1',
    'loopback',
  ]);
});
