import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCodeEmail } from '../../lib/mailbox';
import { freePort } from '../../lib/net';
import { cacheDir } from '../../lib/temporal-binaries';
import { localCertificate } from '../../lib/tls';
import { createAccounts, createService, contactsOf } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

/**
 * The provider's official Python client (PyPI `ovh`, pinned) drives the story that
 * test/integrations/official-client.test.ts drives with the Node.js one. The Python client signs the URL with its
 * port (https://localhost:PORT/1.0/…), the Node.js one without: both pass, on a port other than 443.
 */
const OVH_PYTHON = '1.2.0';
const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const NEWBIE = 'ne44444-ovh';
const SERVICE = 'shop.cluster021.hosting';

const venvMissing = spawnSync('python3', ['-c', 'import ensurepip, venv']).status !== 0;
if (venvMissing) {
  console.warn('python-client.test.ts skipped: python3-venv is not installed (apt-get install python3-venv)');
}

/** A virtualenv with the pinned client, in the machine's cache beside the Temporal binaries (once per machine). */
function pythonWithClient(): string {
  const venv = join(cacheDir(), `python-ovh-${OVH_PYTHON}`);
  const python = join(venv, 'bin', 'python');
  if (!existsSync(join(venv, '.installed'))) {
    execFileSync('python3', ['-m', 'venv', venv]);
    execFileSync(python, [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `ovh==${OVH_PYTHON}`,
    ]);
    execFileSync('touch', [join(venv, '.installed')]);
  }
  return python;
}

let stack: Stack;
let server: Server;
let port: number;
let certDir: string;
let certFile: string;
let python: string;

(venvMissing ? describe.skip : describe)("the provider's official Python client", () => {
  beforeAll(async () => {
    python = pythonWithClient();
    certDir = mkdtempSync(join(tmpdir(), 'contacts-tls-'));
    const generated = localCertificate(certDir);
    certFile = generated.certFile;
    port = await freePort();
    stack = await startStack({
      env: {
        TLS_CERT_FILE: certFile,
        TLS_KEY_FILE: generated.keyFile,
        PUBLIC_HTTPS_URL: `https://localhost:${port}`,
      },
    });
    server = createServer({ cert: readFileSync(certFile), key: readFileSync(generated.keyFile) }, stack.app);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: TECH }, { handle: NEWBIE }]);
    await createService(stack.database.db, {
      name: SERVICE,
      type: 'hosting/web',
      admin: ADMIN,
      tech: TECH,
      billing: ADMIN,
    });
  }, 180_000);
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await stack?.teardown();
    rmSync(certDir, { recursive: true, force: true });
  });

  interface PyAnswer {
    result?: unknown;
    error?: { status: number; message: string };
  }

  interface Keys {
    applicationKey: string;
    applicationSecret: string;
    consumerKey?: string;
  }

  /**
   * One call through the Python client, as a script would make it (the quick start's certificate trusted). Not
   * synchronous: the API it calls answers from this process.
   */
  async function py(keys: Keys, ...args: string[]): Promise<PyAnswer> {
    const { stdout } = await promisify(execFile)(python, [join(__dirname, 'python-client.py'), ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        REQUESTS_CA_BUNDLE: certFile,
        CONTACTS_ENDPOINT: `https://localhost:${port}/1.0`,
        APPLICATION_KEY: keys.applicationKey,
        APPLICATION_SECRET: keys.applicationSecret,
        ...(keys.consumerKey ? { CONSUMER_KEY: keys.consumerKey } : {}),
      },
    });
    return JSON.parse(stdout) as PyAnswer;
  }

  /** The script asks for a consumer key; the person approves it in the portal. */
  async function scriptKeys(handle: string, application: Keys): Promise<Keys> {
    const { result } = await py(application, 'credential');
    const credential = result as { validationUrl: string; consumerKey: string; state: string };
    expect(credential.state).toBe('pendingValidation');
    const person = await login(stack, handle);
    const token = new URL(credential.validationUrl).pathname.split('/').pop();
    await person.post(`/1.0/auth/credential/${token}/validate`, { validity: '1d' }).expect(200);
    return { ...application, consumerKey: credential.consumerKey };
  }

  const codeFor = (handle: string, taskId: number) =>
    stack.mailbox
      .waitFor((m) => m.to.includes(`${handle}@mail.test`) && m.text.includes(`/validate/${taskId}#code=`))
      .then((mail) => readCodeEmail(mail).code);

  test('over HTTPS on a port other than 443: credential, change asked, both accept with their mailed codes', async () => {
    const owner = await login(stack, ADMIN);
    const application = (await owner.post('/1.0/me/api/application', { name: 'python script' }).expect(201))
      .body as Keys;
    const admin = await scriptKeys(ADMIN, application);
    const newbie = await scriptKeys(NEWBIE, application);

    // Signed over https://localhost:PORT/1.0/me: the form with the port.
    expect((await py(admin, 'GET', '/me')).result).toMatchObject({ nichandle: ADMIN });
    expect((await py(admin, 'GET', `/hosting/web/${SERVICE}/serviceInfos`)).result).toMatchObject({
      contactTech: TECH,
    });
    const asked = await py(
      admin,
      'POST',
      `/hosting/web/${SERVICE}/changeContact`,
      `{"contactTech":"${NEWBIE}"}`,
    );
    const [id] = asked.result as number[];
    const accept = (keys: Keys, token: string) =>
      py(keys, 'POST', `/me/task/contactChange/${id}/accept`, JSON.stringify({ token }));
    expect(await accept(admin, await codeFor(ADMIN, id))).toMatchObject({
      result: { outcome: 'accepted', task: { awaiting: [NEWBIE] } },
    });
    expect((await accept(newbie, await codeFor(NEWBIE, id))).error).toBeUndefined();
    await stack.taskEnded(id);
    expect((await contactsOf(stack.database.db, SERVICE)).tech).toBe(NEWBIE);
    expect((await py(admin, 'GET', `/me/task/contactChange/${id}`)).result).toMatchObject({ state: 'done' });

    expect((await py(admin, 'GET', '/me/task/contactChange/999999')).error?.status).toBe(404);
    // A secret that is not the application's: the signature is refused, as the client reports it.
    const forged = await py({ ...admin, applicationSecret: 'not-the-secret' }, 'GET', '/me');
    expect(forged.error?.status).toBe(401);
  });
});
