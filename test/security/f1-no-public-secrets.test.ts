import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../lib/config';

/** Finding 1: secrets copied from an example (docker-compose's change-me… fall-backs) let anyone forge sessions. */
const base = {
  DATABASE_URL: 'postgresql://contacts@localhost:5432/contacts',
  CODE_HASH_KEY: randomBytes(32).toString('hex'),
  SESSION_SECRET: randomBytes(32).toString('hex'),
};

const refusal = (env: Record<string, string>) => {
  try {
    parseConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return undefined;
};

test.each(['CODE_HASH_KEY', 'SESSION_SECRET', 'SESSION_SECRET_PREVIOUS'])(
  '%s: placeholders, short and predictable values are refused, naming the variable',
  (name) => {
    for (const value of [
      'change-me-to-32-or-more-random-characters',
      'change-me-too-32-or-more-random-characters',
      'CHANGEME_CHANGEME_CHANGEME_CHANGEME',
      'replace-me-with-a-long-random-secret-value',
      'your-secret-key-goes-here-please-1234567',
      'x'.repeat(64),
      'ab'.repeat(32),
      'abcdefghijklmnopqrstuvwxyz0123456789',
      '0123456789'.repeat(4),
      randomBytes(15).toString('hex'),
    ]) {
      expect({ value, refusal: refusal({ [name]: value }) }).toEqual({
        value,
        refusal: expect.stringMatching(new RegExp(`^invalid configuration: ${name} `)),
      });
    }
  },
);

test('the placeholders docker-compose.yml ever fell back to are refused', () => {
  const compose = readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');
  const fallbacks = [...compose.matchAll(/\$\{(CODE_HASH_KEY|SESSION_SECRET):-([^}]+)\}/g)];
  for (const [, name, value] of fallbacks) expect(refusal({ [name]: value })).toMatch(name);
  expect(refusal({ CODE_HASH_KEY: 'change-me-to-32-or-more-random-characters' })).toMatch('placeholder');
});

test('random keys as the quick start makes them are accepted; one key for two purposes is not', () => {
  for (let i = 0; i < 2000; i++) {
    expect(() =>
      parseConfig({
        ...base,
        CODE_HASH_KEY: randomBytes(32).toString('hex'),
        SESSION_SECRET: randomBytes(24).toString('base64url'),
        SESSION_SECRET_PREVIOUS: randomBytes(16).toString('hex'),
      }),
    ).not.toThrow();
  }
  expect(refusal({ SESSION_SECRET: base.CODE_HASH_KEY })).toMatch(
    /^invalid configuration: SESSION_SECRET must differ/,
  );
});
