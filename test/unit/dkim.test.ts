import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { SMTPServer } from 'smtp-server';
import { createSmtpMailer } from '../../activities/mailer';
import { renderEmail } from '../../activities/email-templates';
import { sampleEmailContext } from '../../activities/mail-samples';
import { ConfigError, parseConfig } from '../../lib/config';

const good = {
  DATABASE_URL: 'postgresql://contacts@localhost:5432/contacts',
  CODE_HASH_KEY: randomBytes(32).toString('hex'),
  SESSION_SECRET: randomBytes(32).toString('hex'),
};

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const dkimEnv = { DKIM_DOMAIN: 'contacts.example.com', DKIM_SELECTOR: 'mail2026' };

/** Only this selector's key is published: the verifier asks this instead of the DNS. */
async function resolver(name: string, type: string) {
  if (type === 'TXT' && name === 'mail2026._domainkey.contacts.example.com')
    return [[`v=DKIM1; k=rsa; p=${publicDer}`]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
}

/** An SMTP server that keeps each message exactly as received, headers and all. */
async function rawSink() {
  const messages: Buffer[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('no DKIM variables: mail is not signed', () => {
  expect(parseConfig(good).DKIM).toBeUndefined();
});

test('the key may be given inline (with \\n for line breaks) or as a file', () => {
  const inline = parseConfig({ ...good, ...dkimEnv, DKIM_PRIVATE_KEY: privatePem.replace(/\n/g, '\\n') });
  expect(inline.DKIM).toEqual({
    domainName: 'contacts.example.com',
    keySelector: 'mail2026',
    privateKey: privatePem,
  });
  const file = join(mkdtempSync(join(tmpdir(), 'dkim-')), 'dkim.pem');
  writeFileSync(file, privatePem);
  expect(parseConfig({ ...good, ...dkimEnv, DKIM_PRIVATE_KEY_FILE: file }).DKIM?.privateKey).toBe(privatePem);
});

test.each([
  ['a domain alone', { DKIM_DOMAIN: 'contacts.example.com' }, 'DKIM_SELECTOR'],
  ['no key', { ...dkimEnv }, 'DKIM_PRIVATE_KEY'],
  ['no domain', { DKIM_SELECTOR: 'mail2026', DKIM_PRIVATE_KEY: privatePem }, 'DKIM_DOMAIN'],
  ['a placeholder key', { ...dkimEnv, DKIM_PRIVATE_KEY: 'changeme' }, 'DKIM_PRIVATE_KEY'],
  [
    'both a key and a file',
    { ...dkimEnv, DKIM_PRIVATE_KEY: privatePem, DKIM_PRIVATE_KEY_FILE: '/x.pem' },
    'DKIM_PRIVATE_KEY',
  ],
  ['a missing file', { ...dkimEnv, DKIM_PRIVATE_KEY_FILE: '/nonexistent/dkim.pem' }, 'DKIM_PRIVATE_KEY_FILE'],
  ['a bad domain', { ...dkimEnv, DKIM_DOMAIN: 'not a domain', DKIM_PRIVATE_KEY: privatePem }, 'DKIM_DOMAIN'],
])('DKIM with %s is refused at start-up, naming %s', (_label, override, name) => {
  expect(() => parseConfig({ ...good, ...override })).toThrow(ConfigError);
  expect(() => parseConfig({ ...good, ...override })).toThrow(new RegExp(`^invalid configuration: ${name}`));
});

test('a mail sent with DKIM configured carries a DKIM-Signature that verifies against the published key', async () => {
  const sink = await rawSink();
  const { DKIM } = parseConfig({ ...good, ...dkimEnv, DKIM_PRIVATE_KEY: privatePem });
  const mailer = createSmtpMailer(sink.url, 'Contacts <no-reply@contacts.example.com>', DKIM);
  try {
    const email = await renderEmail('fr', 'code', sampleEmailContext('fr', 'code'));
    await mailer.send({ to: 'theo.tech@example.test', ...email, messageId: '<dkim-test@contacts>' });
  } finally {
    mailer.close();
    await sink.close();
  }
  const [raw] = sink.messages;
  expect(raw.toString()).toMatch(/^DKIM-Signature: .*d=contacts\.example\.com.*s=mail2026/ms);
  const verified = await dkimVerify(raw, { resolver });
  expect(verified.results.map((result) => result.status.result)).toEqual(['pass']);

  // The same check fails on a message changed after signing: the test above can fail.
  const tampered = Buffer.from(raw.toString().replace('K7P2-9XQM', 'AAAA-BBBB'));
  const broken = await dkimVerify(tampered, { resolver });
  expect(broken.results).toHaveLength(1);
  expect(broken.results[0].status).toMatchObject({ result: 'neutral', comment: 'body hash did not verify' });
});
