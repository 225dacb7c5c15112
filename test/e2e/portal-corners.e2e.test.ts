import type { Page } from 'playwright-core';
import type { Db } from '../../lib/db';
import { expectAccessible, expectCount, PHONE, portalWorld, screenshot } from '../helpers/browser';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';

// The corners of the portal a real customer reaches (issue 15): each test failed on the portal before its fix.
const ADMIN = 'ad10001-ovh'; // Spanish
const TECH = 'te10002-ovh'; // French
const BILLING = 'bi10003-ovh'; // English
const NEWBIE = 'ne10004-ovh'; // English
const STRANGER = 'st10005-ovh'; // French
const NOT_ELIGIBLE_ES = 'Este identificador no puede designarse para este servicio';
const ARREARS = 'ar10006-ovh'; // English, in arrears
const { world, newPerson, logIn, loginAt, askChange, codeFor, waitForContacts } = portalWorld();

jest.setTimeout(120_000); // a browser, the stack and the worker share CI's two cores

beforeAll(async () => {
  await createAccounts(world.stack.database.db, [
    { handle: ADMIN, language: 'es' },
    { handle: TECH, language: 'fr' },
    { handle: BILLING, language: 'en' },
    { handle: NEWBIE, language: 'en' },
    { handle: STRANGER, language: 'fr' },
    { handle: ARREARS, language: 'en', billingStanding: 'arrears' },
  ]);
  for (const name of [
    'link.example',
    'form.example',
    'states.example',
    'rows.example',
    'alone.example',
    'slow.example',
    'hidden.example',
  ])
    await createService(world.stack.database.db, { name, admin: ADMIN, tech: TECH, billing: BILLING });
  await createService(world.stack.database.db, {
    name: 'arrears.example',
    admin: ARREARS,
    tech: ARREARS,
    billing: ARREARS,
  });
});

const focusedTag = (page: Page) => page.evaluate(() => document.activeElement?.tagName ?? '');

async function ask(page: Page, service: string, label: RegExp, handle: string, confirm: string) {
  const mark = world.stack.mailbox.messages().length;
  await askChange(page, service, label, handle);
  await page.getByRole('button', { name: confirm }).click();
  await page.locator('#editor-result').waitFor();
  return mark;
}

test('1. a mail link opened while someone else is logged in fills nothing, says so and offers to switch', async () => {
  const admin = await newPerson();
  await loginAt(admin.page, ADMIN);
  const mark = await ask(admin.page, 'link.example', /técnico/, NEWBIE, 'Confirmar');
  const newbieMail = await codeFor(NEWBIE, mark);

  // the other validator: its own form stays empty, nothing is spent, and it may switch to the link's account
  await admin.page.goto(newbieMail.link);
  await admin.page
    .getByText(`Este enlace se envió a ${NEWBIE}, pero ha iniciado sesión como ${ADMIN}`)
    .waitFor();
  expect(await admin.page.getByLabel('Código de verificación (token)').inputValue()).toBe('');
  await expectAccessible(admin.page, 'validate, link for someone else');
  await admin.page.getByRole('button', { name: `Conectarse como ${NEWBIE}` }).click();
  await admin.page.waitForURL(/\/login\?next=/);
  // logged out, the page speaks the browser's language (English here)
  await admin.page.getByText(new RegExp(`Log in as ${NEWBIE} to validate request \\d+`)).waitFor();
  expect(await admin.page.getByLabel('Customer handle').inputValue()).toBe(NEWBIE);
  await logIn(admin.page, NEWBIE);
  await admin.page.waitForURL(/\/validate\/\d+$/);
  expect(await admin.page.getByLabel('Verification code (token)').inputValue()).toBe(newbieMail.code);

  // the informed contact: told why there is no form
  const tech = await newPerson();
  await loginAt(tech.page, TECH);
  await tech.page.goto(newbieMail.link);
  await tech.page
    .getByText("Vous êtes informé de ce changement : votre validation n'est pas nécessaire.")
    .waitFor();
  // a stranger, and an unknown id: in the page's language, not the server's English
  const stranger = await newPerson();
  await loginAt(stranger.page, STRANGER);
  await stranger.page.goto(newbieMail.link);
  await stranger.page
    .getByText(new RegExp(`La demande \\d+ n'existe pas ou ne concerne pas ${STRANGER}`))
    .waitFor();
  await stranger.page.goto(`${world.base}/validate/999999`);
  await stranger.page.getByText(`La demande 999999 n'existe pas ou ne concerne pas ${STRANGER}.`).waitFor();
  await expectCount(stranger.page.locator('main').getByText(/does not exist/), 0);
  for (const person of [admin, tech, stranger]) await person.context.close();
});

test('2 and 4. every problem of the form once, under its own field, as it is typed; then who validates', async () => {
  const admin = await newPerson();
  await loginAt(admin.page, ADMIN);
  await askChange(admin.page, 'form.example', /técnico/, 'zz99999-ovh');
  await admin.page.getByLabel('Nuevo contacto de facturación').fill(ARREARS);
  await admin.page.locator('#new-contactTech-error', { hasText: NOT_ELIGIBLE_ES }).waitFor();
  await admin.page.locator('#new-contactBilling-error', { hasText: 'al corriente de pago' }).waitFor();
  await admin.page.getByRole('button', { name: 'Confirmar' }).click();
  // finding 10 of issue 11: an unknown handle and another account's arrears read alike, once under each field
  await expectCount(admin.page.locator('#new-contactTech-error', { hasText: NOT_ELIGIBLE_ES }), 1);
  await expectCount(admin.page.locator('#new-contactBilling-error', { hasText: NOT_ELIGIBLE_ES }), 1);
  await expectCount(admin.page.locator('main').getByText(NOT_ELIGIBLE_ES), 2);
  await expectCount(admin.page.locator('#new-contactAdmin-error'), 0);
  await screenshot(admin.page, 'corner-02-form-errors');
  await admin.page.getByLabel('Nuevo contacto técnico').fill(NEWBIE);
  await admin.page.getByLabel('Nuevo contacto de facturación').fill('');
  await admin.page.getByText(`${NEWBIE} puede ocupar esta función.`).waitFor();
  await admin.page.getByText(`Validarán, con un código enviado por correo: ${ADMIN}, ${NEWBIE}`).waitFor();
  await admin.page.getByText(`Solo se informará a: ${TECH}`).waitFor();
  await expectAccessible(admin.page, 'modify contacts with a preview');
  await screenshot(admin.page, 'corner-02-preview');
  await admin.page.getByRole('button', { name: 'Confirmar' }).click();
  await admin.page.locator('#editor-result').waitFor();
  expect(await admin.page.evaluate(() => document.activeElement?.id)).toBe('editor-result'); // defect 5
  // a second request on the same role names the open one
  await admin.page.getByRole('button', { name: /form\.example/ }).click();
  await admin.page.getByRole('button', { name: 'Modificar los contactos' }).click();
  await admin.page.getByLabel('Nuevo contacto técnico').fill(BILLING);
  await admin.page
    .locator('#new-contactTech-error', { hasText: /La solicitud \d+ ya está abierta/ })
    .waitFor();

  // the asker in arrears is told it is its own account, and what to do
  const arrears = await newPerson();
  await loginAt(arrears.page, ARREARS);
  await askChange(arrears.page, 'arrears.example', /new billing contact/i, NEWBIE);
  await arrears.page.getByText('Your account has unpaid invoices: pay them').waitFor();
  await admin.context.close();
  await arrears.context.close();
});

test('5, 6 and 11. focus follows each step; refuse and cancel ask first; states are right without a reload', async () => {
  const admin = await newPerson();
  await admin.page.goto(`${world.base}/login`);
  await logIn(admin.page, ADMIN);
  await admin.page.waitForURL(/\/contacts/);
  await admin.page.getByRole('row', { name: /states\.example/ }).waitFor();
  expect(await focusedTag(admin.page)).toBe('H1');

  const mark = await ask(admin.page, 'states.example', /técnico/, NEWBIE, 'Confirmar');
  const [adminMail, newbieMail] = [await codeFor(ADMIN, mark), await codeFor(NEWBIE, mark)];
  const newbie = await newPerson();
  await loginAt(newbie.page, NEWBIE);
  await newbie.page.goto(newbieMail.link);
  await newbie.page.getByRole('button', { name: 'Accept' }).click();
  await newbie.page.getByText('Accepted. The change is applied').waitFor();
  expect(await focusedTag(newbie.page)).toBe('P');

  await admin.page.goto(adminMail.link);
  await admin.page.getByRole('button', { name: 'Cancelar la solicitud' }).click();
  await admin.page.getByText(/¿Cancelar la solicitud \d+\? Es definitivo/).waitFor();
  await admin.page.getByRole('button', { name: 'No, volver' }).click();
  await admin.page.getByRole('button', { name: 'Aceptar' }).click();
  await admin.page.getByText('realizada', { exact: true }).waitFor(); // no reload: the card follows to the end
  await expectCount(admin.page.getByRole('button', { name: /código nuevo/ }), 0);
  await expectCount(admin.page.locator('main').getByText('Caduca el'), 0);
  await expectCount(admin.page.locator('main').getByText('Compruebe la solicitud y acéptela'), 0);
  await admin.page.getByText('Esta solicitud ha terminado').waitFor();
  await waitForContacts('states.example', { tech: NEWBIE });
  await admin.page.getByText('Historial').click(); // the timeline, from the audit log
  await admin.page.getByText(`${ADMIN} pidió el cambio`).waitFor();
  await admin.page.getByText(`${NEWBIE} aceptó`).waitFor();
  await expectAccessible(admin.page, 'request done, timeline open');
  await screenshot(admin.page, 'corner-11-done-with-timeline');

  // a refusal asks first, then lists the silent contact as silent
  const mark2 = await ask(admin.page, 'alone.example', /técnico/, BILLING, 'Confirmar');
  const mail = await codeFor(ADMIN, mark2);
  await admin.page.goto(mail.link);
  await admin.page.getByRole('button', { name: 'Rechazar' }).click();
  await admin.page.getByText(/¿Rechazar la solicitud \d+\?/).waitFor();
  expect(await contactsOf(world.stack.database.db, 'alone.example')).toMatchObject({ tech: TECH });
  await admin.page.getByRole('button', { name: 'Sí, rechazar' }).click();
  await admin.page.getByText(`${BILLING}: no respondió`).waitFor();
  expect(await focusedTag(admin.page)).toBe('P');
  await admin.context.close();
  await newbie.context.close();
});

test('8 and 13. open requests on their rows, tabs and search on My requests, filters in the address', async () => {
  const admin = await newPerson();
  await loginAt(admin.page, ADMIN);
  await ask(admin.page, 'rows.example', /técnico/, NEWBIE, 'Confirmar');
  // the panel opened in the table, under its row
  expect(await admin.page.locator('tr.editor-row #editor-title').count()).toBe(1);
  await admin.page.goto(`${world.base}/contacts`);
  const link = admin.page.getByRole('link', {
    name: new RegExp(`Solicitud \\d+ abierta: técnico → ${NEWBIE}`),
  });
  await link.first().waitFor();
  await link.first().click();
  await admin.page.waitForURL(/\/validate\/\d+$/);

  await admin.page.goto(`${world.base}/contacts`);
  await admin.page.getByLabel('El nombre contiene').fill('rows');
  await admin.page.getByRole('button', { name: 'Filtrar' }).click();
  await admin.page.waitForURL(/name=rows/);
  await admin.page.reload();
  expect(await admin.page.getByLabel('El nombre contiene').inputValue()).toBe('rows');
  await expectCount(admin.page.locator('tbody tr:not(.editor-row)'), 1);
  await expectAccessible(admin.page, 'contacts, filtered');

  await admin.page.goto(`${world.base}/requests`);
  await admin.page.getByRole('link', { name: /Por validar/ }).waitFor();
  await admin.page.getByRole('link', { name: /Terminadas/ }).click();
  await admin.page.waitForURL(/view=ended/);
  await admin.page.getByLabel('Buscar por servicio o identificador').fill('nothing-like-this');
  await admin.page.getByText('Ninguna solicitud coincide.').waitFor();
  await admin.page.reload();
  expect(await admin.page.getByLabel('Buscar por servicio o identificador').inputValue()).toBe(
    'nothing-like-this',
  );
  await expectAccessible(admin.page, 'requests, ended, searched');
  await admin.context.close();
});

test('9, 10 and 12. login page, unknown addresses and wording', async () => {
  const visitor = await newPerson({ locale: 'fr-FR', viewport: PHONE });
  await visitor.page.goto(`${world.base}/login`);
  await visitor.page.getByRole('heading', { name: 'Connectez-vous à votre espace client' }).waitFor();
  expect(await visitor.page.locator('#header').innerText()).not.toContain('null');
  await visitor.page.getByRole('link', { name: 'Español' }).click();
  await visitor.page.getByRole('heading', { name: 'Conéctese a su área de cliente' }).waitFor();
  await visitor.page.goto(`${world.base}/validate/12`);
  await visitor.page.waitForURL(/\/login\?next=/);
  await visitor.page.getByText('Connectez-vous pour valider la demande 12').waitFor();
  await expectAccessible(visitor.page, 'login from a mail link, phone');

  for (const path of ['/valid', '/validate/12ab', '/no/such/page']) {
    const response = await visitor.page.goto(`${world.base}${path}`);
    expect(response?.status()).toBe(404);
    expect(response?.headers()['content-type']).toContain('text/html');
    await visitor.page.getByRole('heading', { name: "Cette page n'existe pas." }).waitFor();
  }
  await visitor.page.getByText("Si vous avez suivi un lien d'un e-mail").waitFor();
  await expectAccessible(visitor.page, 'not found');
  const api = await visitor.page.request.get(`${world.base}/1.0/no/such/route`);
  expect(api.headers()['content-type']).toContain('application/json');

  // the asker alone validates: a singular verb; the service type in words
  const admin = await newPerson();
  await loginAt(admin.page, ADMIN);
  await admin.page.getByRole('cell', { name: 'dominio' }).first().waitFor();
  await ask(admin.page, 'alone.example', /técnico/, ADMIN, 'Confirmar');
  await admin.page.getByText(new RegExp(`Solicitud \\d+: ${ADMIN} debe validarla`)).waitFor();
  await admin.context.close();
  await visitor.context.close();
});

/** Holds a service's row locked, as a long transaction would: the apply, which locks it, waits until release(). */
async function holdServiceRow(db: Db, name: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const held = db.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT id FROM service WHERE name = ${name} FOR UPDATE`;
      locked();
      await released;
    },
    { timeout: 60_000 },
  );
  await Promise.race([isLocked, held]);
  return {
    release: async () => {
      release();
      await held;
    },
  };
}

test('a card being applied follows its request to the end however long the apply takes (the browser clock)', async () => {
  const admin = await newPerson();
  await loginAt(admin.page, ADMIN);
  const mark = await ask(admin.page, 'slow.example', /técnico/, ADMIN, 'Confirmar');
  const mail = await codeFor(ADMIN, mark);
  // The page's time is the test's from here (Playwright's clock): minutes of it pass in no time.
  await admin.page.clock.install();
  await admin.page.goto(mail.link);
  await admin.page.getByRole('button', { name: 'Aceptar' }).waitFor();
  await admin.page.clock.pauseAt(await admin.page.evaluate(() => Date.now() + 1000));

  const hold = await holdServiceRow(world.stack.database.db, 'slow.example');
  await admin.page.getByRole('button', { name: 'Aceptar' }).click();
  await admin.page.getByText('Todos han aceptado: el cambio se está aplicando.').waitFor();
  // 16 s of the page's time with the apply held: the read it makes is still behind the card (15 s was the end).
  const isTaskRead = (response: { url(): string; request(): { method(): string } }) =>
    response.request().method() === 'GET' && /\/task\/contactChange\/\d+$/.test(response.url());
  const read = admin.page.waitForResponse(isTaskRead);
  await admin.page.clock.fastForward(16_000);
  await read;
  await hold.release();
  await waitForContacts('slow.example', { tech: ADMIN });

  // The apply is over: the card gets there at its next read, at most 15 s of the page's time apart.
  const done = admin.page.getByText('realizada', { exact: true });
  for (let turns = 0; !(await done.isVisible()); turns++) {
    if (turns === 20) throw new Error('the card still says the change is being applied');
    await admin.page.clock.fastForward(15_000);
    await done.waitFor({ timeout: 1_000 }).catch(() => undefined); // the read it fired, answered
  }
  await expectCount(admin.page.getByText('Todos han aceptado: el cambio se está aplicando.'), 0);
  await admin.context.close();
});

/**
 * Headless Chromium never hides a page: the test says it is hidden or shown, as the browser does when its tab is
 * switched (document.visibilityState and hidden, then a visibilitychange event).
 */
async function setVisibility(page: Page, state: 'hidden' | 'visible') {
  await page.evaluate((state) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

test('a card being applied reads nothing while its page is hidden, and reads at once when it is shown', async () => {
  const admin = await newPerson();
  await loginAt(admin.page, ADMIN);
  const mark = await ask(admin.page, 'hidden.example', /técnico/, ADMIN, 'Confirmar');
  const mail = await codeFor(ADMIN, mark);
  await admin.page.clock.install();
  await admin.page.goto(mail.link);
  await admin.page.getByRole('button', { name: 'Aceptar' }).waitFor();
  await admin.page.clock.pauseAt(await admin.page.evaluate(() => Date.now() + 1000));
  const reads: { response(): Promise<unknown> }[] = [];
  admin.page.on('request', (request) => {
    if (request.method() === 'GET' && /\/task\/contactChange\/\d+$/.test(request.url())) reads.push(request);
  });
  const hold = await holdServiceRow(world.stack.database.db, 'hidden.example');
  await admin.page.getByRole('button', { name: 'Aceptar' }).click();
  const beingApplied = admin.page.getByText('Todos han aceptado: el cambio se está aplicando.');
  await beingApplied.waitFor();
  await admin.page.clock.fastForward(2_000);
  await Promise.all(reads.map((read) => read.response()));
  expect(reads.length).toBeGreaterThan(0); // it follows the request while the page is shown

  await setVisibility(admin.page, 'hidden');
  await admin.page.clock.fastForward(16_000); // the pause it was in ends, and it finds the page hidden
  await Promise.all(reads.map((read) => read.response())); // a read under way as the page was hidden, answered
  const beforeHidden = reads.length;
  await hold.release();
  await waitForContacts('hidden.example', { tech: ADMIN });
  // Two minutes of the page's time, hidden, with the apply over: no read, so the card still shows what it had.
  await admin.page.clock.fastForward(120_000);
  expect(reads.length).toBe(beforeHidden);
  expect(await beingApplied.isVisible()).toBe(true);

  // Shown again: a read at once, without any of the page's time passing.
  await setVisibility(admin.page, 'visible');
  await admin.page.getByText('realizada', { exact: true }).waitFor({ timeout: 10_000 });
  expect(reads.length).toBe(beforeHidden + 1);
  await expectCount(beingApplied, 0);
  await admin.context.close();
});
