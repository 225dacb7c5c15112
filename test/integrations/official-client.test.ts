import { globalAgent, createServer, type Server } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ovh from 'ovh';
import request from 'supertest';
import { ovhSignature } from '../../api/auth/signature';
import { freePort } from '../../lib/net';
import { localCertificate } from '../../lib/tls';
import { createAccounts, createService, contactsOf } from '../helpers/fixtures';
import { codeFor, login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const NEWBIE = 'ne44444-ovh';
const SERVICE = 'shop.cluster021.hosting';

let stack: Stack;
let server: Server;
let port: number;
let certDir: string;

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'contacts-tls-'));
  const { certFile, keyFile } = localCertificate(certDir);
  port = await freePort();
  stack = await startStack({
    env: { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, PUBLIC_HTTPS_URL: `https://localhost:${port}` },
  });
  // What a user of the quick start does: trust the certificate made on the machine.
  globalAgent.options.ca = readFileSync(certFile, 'utf8');
  server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, stack.app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: TECH }, { handle: NEWBIE }]);
  await createService(stack.database.db, {
    name: SERVICE,
    type: 'hosting/web',
    admin: ADMIN,
    tech: TECH,
    billing: ADMIN,
  });
});
afterAll(async () => {
  delete globalAgent.options.ca;
  await new Promise((resolve) => server?.close(resolve));
  await stack?.teardown();
  rmSync(certDir, { recursive: true, force: true });
});

/** The script's side: the official client, asking for a consumer key a person then approves in the portal. */
async function scriptFor(handle: string, application: { applicationKey: string; applicationSecret: string }) {
  const endpoint = { host: 'localhost', port, basePath: '/1.0' };
  const anonymous = ovh({
    appKey: application.applicationKey,
    appSecret: application.applicationSecret,
    ...endpoint,
  });
  const credential = (await anonymous.requestPromised('POST', '/auth/credential', {
    accessRules: [
      { method: 'GET', path: '/*' },
      { method: 'POST', path: '/*' },
    ],
  })) as { validationUrl: string; consumerKey: string; state: string };
  expect(credential.state).toBe('pendingValidation');
  const person = await login(stack, handle);
  const token = new URL(credential.validationUrl).pathname.split('/').pop();
  await person.post(`/1.0/auth/credential/${token}/validate`, { validity: '1d' }).expect(200);
  return ovh({
    appKey: application.applicationKey,
    appSecret: application.applicationSecret,
    consumerKey: credential.consumerKey,
    ...endpoint,
  });
}

test("the provider's official Node.js client over HTTPS: credential, change asked, both accept with their mailed codes", async () => {
  const owner = await login(stack, ADMIN);
  const application = (await owner.post('/1.0/me/api/application', { name: 'contact script' }).expect(201))
    .body;
  const adminScript = await scriptFor(ADMIN, application);
  const newbieScript = await scriptFor(NEWBIE, application);

  expect(await adminScript.requestPromised('GET', '/me')).toMatchObject({ nichandle: ADMIN });
  expect(await adminScript.requestPromised('GET', `/hosting/web/${SERVICE}/serviceInfos`)).toMatchObject({
    contactTech: TECH,
  });
  const [id] = (await adminScript.requestPromised('POST', `/hosting/web/${SERVICE}/changeContact`, {
    contactTech: NEWBIE,
  })) as number[];

  const accepted = (await adminScript.requestPromised('POST', `/me/task/contactChange/${id}/accept`, {
    token: await codeFor(stack, ADMIN, id),
  })) as { outcome: string; task: { awaiting: string[] } };
  expect(accepted).toMatchObject({ outcome: 'accepted', task: { awaiting: [NEWBIE] } });
  await newbieScript.requestPromised('POST', `/me/task/contactChange/${id}/accept`, {
    token: await codeFor(stack, NEWBIE, id),
  });
  await stack.taskEnded(id);
  expect((await contactsOf(stack.database.db, SERVICE)).tech).toBe(NEWBIE);
  const task = (await adminScript.requestPromised('GET', `/me/task/contactChange/${id}`)) as {
    state: string;
  };
  expect(task.state).toBe('done');

  const refused = await adminScript
    .requestPromised('GET', '/me/task/contactChange/999999')
    .catch((error: { error: number }) => error.error);
  expect(refused).toBe(404);
});

test('a signature over the URL with its port (as the Python client signs) is accepted too, a wrong host is not', async () => {
  const owner = await login(stack, ADMIN);
  const application = (await owner.post('/1.0/me/api/application', { name: 'port script' }).expect(201)).body;
  const script = await scriptFor(ADMIN, application);
  const signedGet = (url: string) => {
    const timestamp = Math.floor(Date.now() / 1000);
    return request(server)
      .get('/1.0/me')
      .trustLocalhost()
      .set('X-Ovh-Application', application.applicationKey)
      .set('X-Ovh-Consumer', script.consumerKey!)
      .set('X-Ovh-Timestamp', String(timestamp))
      .set(
        'X-Ovh-Signature',
        ovhSignature({
          applicationSecret: application.applicationSecret,
          consumerKey: script.consumerKey!,
          method: 'GET',
          url,
          body: '',
          timestamp,
        }),
      );
  };
  await signedGet(`https://localhost:${port}/1.0/me`).expect(200);
  await signedGet(`https://localhost/1.0/me`).expect(200);
  expect((await signedGet(`https://elsewhere.test:${port}/1.0/me`)).body.reason).toBe('invalidSignature');
});
