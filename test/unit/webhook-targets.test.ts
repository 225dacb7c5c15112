import { promisify } from 'node:util';
import {
  guardedLookup,
  parseAllowedRange,
  refusedAddress,
  WebhookTargetRefused,
  webhookTargetProblem,
} from '../../lib/webhook-targets';
import { ConfigError, parseConfig } from '../../lib/config';

const none: never[] = [];

test.each([
  ['127.0.0.1', 'loopback'],
  ['127.8.9.10', 'loopback'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['192.168.0.1', 'private'],
  ['169.254.169.254', 'linkLocal'],
  ['fe80::1', 'linkLocal'],
  ['fd00:ec2::254', 'uniqueLocal'],
  ['100.100.100.200', 'carrierGradeNat'],
  ['224.0.0.1', 'multicast'],
  ['ff02::1', 'multicast'],
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['255.255.255.255', 'broadcast'],
  ['64:ff9b::a00:1', 'rfc6052'],
  ['2002:7f00:1::', '6to4'],
])('%s is refused (%s)', (address, range) => {
  expect(refusedAddress(address, none)).toBe(`${address} is not a public address (${range})`);
});

test.each(['93.184.215.14', '2a00:1450:4007:80e::200e', '8.8.8.8'])('%s is a public address', (address) => {
  expect(refusedAddress(address, none)).toBeUndefined();
});

test('an allowed range lets its addresses through, and only them', () => {
  const allowed = ['127.0.0.1/32', '10.20.0.0/16', '::1'].map((entry) => parseAllowedRange(entry)!);
  expect(refusedAddress('127.0.0.1', allowed)).toBeUndefined();
  expect(refusedAddress('::ffff:127.0.0.1', allowed)).toBeUndefined();
  expect(refusedAddress('::1', allowed)).toBeUndefined();
  expect(refusedAddress('10.20.30.40', allowed)).toBeUndefined();
  expect(refusedAddress('127.0.0.2', allowed)).toMatch(/loopback/);
  expect(refusedAddress('10.21.0.1', allowed)).toMatch(/private/);
  expect(parseAllowedRange('localhost')).toBeUndefined();
  expect(parseAllowedRange('10.0.0.0/33')).toBeUndefined();
});

test('a URL is judged by every address its host resolves to, whatever way the address is written', async () => {
  for (const url of [
    'http://localhost:8080/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://[::ffff:127.0.0.1]/',
  ])
    expect(await webhookTargetProblem(url, none)).toMatch(/127\.0\.0\.1|::1|7f00:1/);
  expect(await webhookTargetProblem('http://no-such-host.invalid/', none)).toBe(
    'no-such-host.invalid does not resolve',
  );
  expect(await webhookTargetProblem('https://93.184.215.14/hooks', none)).toBeUndefined();
});

test('the delivery lookup refuses a name that resolves to a forbidden address (DNS rebinding)', async () => {
  const lookup = promisify(guardedLookup(none)) as unknown as (
    host: string,
    options: object,
  ) => Promise<unknown>;
  await expect(lookup('localhost', { all: true })).rejects.toBeInstanceOf(WebhookTargetRefused);
  await expect(lookup('localhost', {})).rejects.toThrow(/localhost resolves to .* \(loopback\)/);
  const allowed = promisify(guardedLookup([parseAllowedRange('127.0.0.1')!, parseAllowedRange('::1')!]));
  expect(
    await (allowed as unknown as (h: string, o: object) => Promise<unknown>)('localhost', { all: true }),
  ).toEqual(
    expect.arrayContaining([expect.objectContaining({ address: expect.stringMatching(/127\.0\.0\.1|::1/) })]),
  );
});

test('WEBHOOK_ALLOWED_TARGETS takes addresses and CIDR ranges only, and is named when wrong', () => {
  const base = {
    DATABASE_URL: 'postgresql://u:p@localhost/db',
    CODE_HASH_KEY: '3f9c1a7e52b84d06e1c7a9f2035b6d48',
    SESSION_SECRET: 'Qm7vT2xK9pL4sW8nE1rY6uH3jB5cZ0aD',
  };
  expect(parseConfig(base).WEBHOOK_ALLOWED_TARGETS).toEqual([]);
  expect(
    parseConfig({ ...base, WEBHOOK_ALLOWED_TARGETS: '127.0.0.1/32, ::1' }).WEBHOOK_ALLOWED_TARGETS,
  ).toHaveLength(2);
  expect(() => parseConfig({ ...base, WEBHOOK_ALLOWED_TARGETS: '127.0.0.1, localhost' })).toThrow(
    ConfigError,
  );
  expect(() => parseConfig({ ...base, WEBHOOK_ALLOWED_TARGETS: 'localhost' })).toThrow(
    /WEBHOOK_ALLOWED_TARGETS/,
  );
});
