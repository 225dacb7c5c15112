import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server } from 'node:tls';
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import forge from 'node-forge';
import { parseConfig } from '../../lib/config';
import { temporalConnectionOptions } from '../../lib/temporal-connection';
import { timeSkippingEnvironment } from '../helpers/temporal';

/** A certificate signed by `issuer` (or self-signed when it is the CA), as PEM. */
function certificate(
  commonName: string,
  usage: 'ca' | 'server' | 'client',
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey },
) {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `0${Math.floor(Math.random() * 1e9)}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : [{ name: 'commonName', value: commonName }]);
  cert.setExtensions(
    usage === 'ca'
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: usage === 'server', clientAuth: usage === 'client' },
          ...(usage === 'server'
            ? [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'temporal.test' }] }]
            : []),
        ],
  );
  cert.sign(issuer?.key ?? keys.privateKey, forge.md.sha256.create());
  return {
    cert,
    key: keys.privateKey,
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

let env: TestWorkflowEnvironment;
let proxy: Server;
const dir = mkdtempSync(join(tmpdir(), 'contacts-mtls-'));
const file = (name: string, content: string) => {
  writeFileSync(join(dir, name), content, { mode: 0o600 });
  return join(dir, name);
};
let settings: Record<string, string>;
const without = (env: Record<string, string>, ...names: string[]) =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));

beforeAll(async () => {
  env = await timeSkippingEnvironment();
  const ca = certificate('contacts test CA', 'ca');
  const server = certificate('temporal.test', 'server', ca);
  const client = certificate('contacts-worker', 'client', ca);
  const [target] = env.connection.options.address.split(':').reverse();
  // The frontend behind a TLS terminator that demands a client certificate signed by the CA (docs/operations.md).
  proxy = createTlsServer(
    {
      cert: server.certPem,
      key: server.keyPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const upstream = tcpConnect(Number(target), '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  settings = {
    DATABASE_URL: 'postgresql://contacts@localhost:5432/contacts',
    CODE_HASH_KEY: '3f9c1a7e52b84d06e1c7a9f2035b6d48',
    SESSION_SECRET: 'Qm7vT2xK9pL4sW8nE1rY6uH3jB5cZ0aD',
    TEMPORAL_ADDRESS: `127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    TEMPORAL_TLS_CA_FILE: file('ca.crt', ca.certPem),
    TEMPORAL_TLS_CERT_FILE: file('client.crt', client.certPem),
    TEMPORAL_TLS_KEY_FILE: file('client.key', client.keyPem),
  };
}, 120_000);
afterAll(async () => {
  proxy?.close();
  await env?.teardown();
});

test('the API and the worker reach a frontend that requires mutual TLS with the configured certificates', async () => {
  const options = temporalConnectionOptions(parseConfig(settings));
  const client = await Connection.connect(options);
  await expect(client.workflowService.getSystemInfo({})).resolves.toBeDefined();
  await client.close();
  const worker = await NativeConnection.connect(options);
  await worker.close();
});

test('without a client certificate the frontend refuses the connection', async () => {
  const options = temporalConnectionOptions(
    parseConfig(without(settings, 'TEMPORAL_TLS_CERT_FILE', 'TEMPORAL_TLS_KEY_FILE')),
  );
  await expect(
    Connection.connect({ ...options, connectTimeout: 5_000 }).then((c) =>
      c.workflowService.getSystemInfo({}),
    ),
  ).rejects.toThrow();
});

test('a certificate without its key, or a file that cannot be read, is refused at start-up', () => {
  expect(() => parseConfig(without(settings, 'TEMPORAL_TLS_KEY_FILE'))).toThrow(/TEMPORAL_TLS_KEY_FILE/);
  expect(() => parseConfig({ ...settings, TEMPORAL_TLS_CA_FILE: join(dir, 'missing.crt') })).toThrow(
    /TEMPORAL_TLS_CA_FILE must be a readable file/,
  );
});
