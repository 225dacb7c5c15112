import { readCodeEmail } from '../../lib/mailbox';
import { expectAttribute, expectCount, portalWorld, screenshot } from '../helpers/browser';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';

// The guide's story in a real browser (Debian's Chromium), with codes read from the real SMTP sink.
const ADMIN = 'xx11111-ovh'; // Spanish
const TECH = 'te22222-ovh'; // French
const BILLING = 'bi33333-ovh'; // English
const NEWBIE = 'ne44444-ovh'; // English
const { world, newPerson, logIn, loginAt, askChange, codeFor, waitForContacts } = portalWorld();

jest.setTimeout(120_000); // a browser, the stack and the worker share CI's two cores

beforeAll(async () => {
  await createAccounts(world.stack.database.db, [
    { handle: ADMIN, language: 'es' },
    { handle: TECH, language: 'fr' },
    { handle: BILLING, language: 'en' },
    { handle: NEWBIE, language: 'en' },
  ]);
  for (const name of [
    'tienda-ejemplo.es',
    'tech-variant.example',
    'billing-variant.example',
    'refusal.example',
    'resend.example',
  ]) {
    await createService(world.stack.database.db, { name, admin: ADMIN, tech: TECH, billing: BILLING });
  }
});

test("the guide's story: the admin asks for a new tech, the new contact validates from the email link, the admin from My requests", async () => {
  const admin = await newPerson({ locale: 'es-ES' });
  const newbie = await newPerson();

  await admin.page.goto(`${world.base}/login`);
  await screenshot(admin.page, '01-login');
  await logIn(admin.page, ADMIN, /contraseña/i);
  await admin.page.waitForURL(`${world.base}/contacts`);
  await admin.page.getByRole('heading', { level: 1, name: 'Gestión de contactos' }).waitFor();
  await admin.page.getByRole('row', { name: /tienda-ejemplo\.es/ }).waitFor();
  await screenshot(admin.page, '02-contact-management');

  await admin.page.getByRole('button', { name: /tienda-ejemplo\.es/ }).click();
  await screenshot(admin.page, '03-row-menu');
  await admin.page.getByRole('button', { name: 'Modificar los contactos' }).click();
  await admin.page.getByLabel('Nuevo contacto técnico').fill(NEWBIE);
  await screenshot(admin.page, '04-modify-contacts');
  await admin.page.getByRole('button', { name: 'Confirmar' }).click();
  await admin.page
    .getByText(/Solicitud\(es\) creada\(s\)/)
    .first()
    .waitFor();
  await admin.page
    .getByText(new RegExp(`${ADMIN}, ${NEWBIE} deben validarla`))
    .first()
    .waitFor();
  await screenshot(admin.page, '05-request-created');

  const newbieMail = await codeFor(NEWBIE);
  await newbie.page.goto(newbieMail.link);
  await newbie.page.waitForURL(/\/login\?next=/);
  await logIn(newbie.page, NEWBIE, /password/i);
  await newbie.page.waitForURL(/\/validate\/\d+$/); // the code left the address bar
  const code = newbie.page.getByLabel('Verification code (token)');
  await code.waitFor();
  expect(await code.inputValue()).toBe(newbieMail.code);
  expect(await contactsOf(world.stack.database.db, 'tienda-ejemplo.es')).toMatchObject({ tech: TECH }); // opening decided nothing
  await screenshot(newbie.page, '06-validation-page');
  await newbie.page.getByRole('button', { name: 'Accept' }).click();
  await newbie.page.locator('main').getByText('Accepted. The change is applied').waitFor();

  const adminMail = await codeFor(ADMIN);
  await admin.page.getByRole('link', { name: 'Mis solicitudes' }).first().click();
  await admin.page.locator('main').getByText(`${NEWBIE}: aceptada`).waitFor();
  await screenshot(admin.page, '07-my-requests-pending');
  await admin.page.getByLabel('Código de verificación (token)').fill('WRONG22222');
  await admin.page.getByRole('button', { name: 'Aceptar' }).click();
  await admin.page
    .getByText(/Código incorrecto: le quedan 4 intento/)
    .first()
    .waitFor();
  await screenshot(admin.page, '08-wrong-code');
  await admin.page.getByLabel('Código de verificación (token)').fill(adminMail.code);
  await admin.page.getByRole('button', { name: 'Aceptar' }).click();
  await waitForContacts('tienda-ejemplo.es', { tech: NEWBIE });

  await newbie.page.goto(`${world.base}/requests`);
  await newbie.page.locator('main').getByText('done', { exact: true }).first().waitFor();
  await screenshot(newbie.page, '09-request-done');
  await admin.context.close();
  await newbie.context.close();
});

test('the new contact sees "waiting for the other contact" once it has validated', async () => {
  const admin = await newPerson();
  const newbie = await newPerson();
  await loginAt(admin.page, ADMIN);
  const mark = world.stack.mailbox.messages().length;
  await askChange(admin.page, 'refusal.example', /técnico/, NEWBIE);
  await admin.page.getByRole('button', { name: 'Confirmar' }).click();
  await admin.page
    .getByText(/creada/)
    .first()
    .waitFor();
  const mail = await codeFor(NEWBIE, mark);
  await loginAt(newbie.page, NEWBIE);
  await newbie.page.goto(mail.link);
  await newbie.page.getByRole('button', { name: 'Accept' }).click();
  await newbie.page
    .locator('main')
    .getByText('You have validated: the request is waiting for the other contact.')
    .waitFor();
  await screenshot(newbie.page, '10-waiting-for-other');

  const adminMail = await codeFor(ADMIN, mark);
  await admin.page.goto(`${world.base}/requests`);
  await admin.page.getByLabel('Código de verificación (token)').first().fill(adminMail.code);
  await admin.page.getByRole('button', { name: 'Rechazar' }).first().click();
  await admin.page.getByRole('button', { name: 'Sí, rechazar' }).click();
  await admin.page
    .getByText(/Rechazada/)
    .first()
    .waitFor();
  await screenshot(admin.page, '11-refused');
  expect(await contactsOf(world.stack.database.db, 'refusal.example')).toMatchObject({ tech: TECH });
  await admin.context.close();
  await newbie.context.close();
});

test('tech variant in French: the tech names its successor and sees only its own role', async () => {
  const tech = await newPerson({ locale: 'fr-FR' });
  await loginAt(tech.page, TECH);
  await tech.page.getByRole('heading', { name: 'Gestion des contacts' }).waitFor();
  await tech.page.getByRole('button', { name: /tech-variant\.example/ }).click();
  await tech.page.getByRole('button', { name: 'Modifier les contacts' }).click();
  await expectCount(tech.page.getByLabel('Nouveau contact administrateur'), 0);
  await expectCount(tech.page.getByLabel('Nouveau contact facturation'), 0);
  await tech.page.getByLabel('Nouveau contact technique').fill('zz99999-ovh');
  await tech.page.getByRole('button', { name: 'Confirmer' }).click();
  await tech.page
    .locator('#new-contactTech-error', {
      hasText: 'Cet identifiant ne peut pas être désigné pour ce service',
    })
    .waitFor();
  await screenshot(tech.page, '12-error-next-to-field');
  await tech.page.getByLabel('Nouveau contact technique').fill(NEWBIE);
  const before = world.stack.mailbox.messages().length;
  await tech.page.getByRole('button', { name: 'Confirmer' }).click();
  await tech.page
    .getByText(new RegExp(`${TECH}, ${NEWBIE} doivent la valider`))
    .first()
    .waitFor();
  for (const [handle, label, button] of [[TECH, 'Code de vérification (token)', 'Accepter']] as const) {
    const mail = await codeFor(handle, before);
    await tech.page.goto(mail.link);
    expect(await tech.page.getByLabel(label).inputValue()).toBe(mail.code);
    await tech.page.getByRole('button', { name: button }).click();
    await tech.page
      .locator('main')
      .getByText(/Acceptée/)
      .waitFor();
  }
  await tech.context.close();
});

test('billing variant and a resend after the new contact corrects its email address, on a phone-width screen', async () => {
  const billing = await newPerson({ viewport: { width: 390, height: 844 } });
  const newbie = await newPerson({ viewport: { width: 390, height: 844 } });
  await loginAt(billing.page, BILLING);
  await billing.page.locator('main').getByText('billing-variant.example').first().waitFor();
  await screenshot(billing.page, '13-phone-contact-management');
  const mark = world.stack.mailbox.messages().length;
  await askChange(billing.page, 'billing-variant.example', /new billing contact/i, NEWBIE);
  await expectCount(billing.page.getByLabel('New technical contact'), 0);
  await billing.page.getByRole('button', { name: 'Confirm' }).click();
  await billing.page
    .getByText(/Request\(s\) created/)
    .first()
    .waitFor();
  const first = await codeFor(NEWBIE, mark);

  await loginAt(newbie.page, NEWBIE);
  await newbie.page.goto(`${world.base}/profile`);
  const beforeChange = world.stack.mailbox.messages().length;
  await newbie.page.getByLabel('Email address').fill('nora.fixed@mail.test');
  await newbie.page.getByRole('button', { name: 'Save' }).click();
  await newbie.page.locator('main').getByText('Saved.').waitFor();
  await screenshot(newbie.page, '14-profile');
  // A new address counts once confirmed with the token mailed to it, from a logged-in browser.
  const confirmation = await world.stack.mailbox.waitFor(
    (m) => m.id > beforeChange && m.to.includes('nora.fixed@mail.test'),
  );
  const emailToken = /confirmEmail=([\w-]+)/.exec(confirmation.text)![1];
  expect(
    await newbie.page.evaluate(async (token) => {
      const { csrfToken } = (await (await fetch('/auth/session')).json()) as { csrfToken: string };
      const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken };
      const body = JSON.stringify({ token });
      return (await fetch('/1.0/me/email/confirm', { method: 'POST', headers, body })).status;
    }, emailToken),
  ).toBe(200);
  await world.stack.env.sleep(1000); // past RESEND_MIN_INTERVAL (500 ms in tests) on the test server's clock
  const beforeResend = world.stack.mailbox.messages().length;
  await newbie.page.goto(`${world.base}/requests`);
  await newbie.page.getByRole('button', { name: 'Send me a new code' }).first().click();
  await newbie.page
    .locator('main')
    .getByText(/The email was sent again to/)
    .waitFor();
  await screenshot(newbie.page, '15-resent');
  const fresh = await world.stack.mailbox
    .waitFor((m) => m.id > beforeResend && m.to.includes('nora.fixed@mail.test'))
    .then(readCodeEmail);
  expect(fresh.code).not.toBe(first.code);
  await newbie.page.goto(fresh.link);
  await newbie.page.getByRole('button', { name: 'Accept' }).click();
  await newbie.page
    .locator('main')
    .getByText(/waiting for the other contact/)
    .waitFor();

  const billingMail = await codeFor(BILLING, mark);
  await billing.page.goto(billingMail.link);
  await billing.page.getByRole('button', { name: 'Accept' }).click();
  await waitForContacts('billing-variant.example', { billing: NEWBIE });
  await billing.context.close();
  await newbie.context.close();
});

test('keyboard only: the row menu opens, Escape closes it and gives focus back', async () => {
  const admin = await newPerson();
  await loginAt(admin.page, ADMIN);
  const toggle = admin.page.getByRole('button', { name: /resend\.example/ });
  await toggle.focus();
  await admin.page.keyboard.press('Enter');
  await expectAttribute(toggle, 'aria-expanded', 'true');
  await admin.page.keyboard.press('Escape');
  await expectAttribute(toggle, 'aria-expanded', 'false');
  const focused = await admin.page.evaluate('document.activeElement.getAttribute("aria-controls")');
  expect(focused).toBe(await toggle.getAttribute('aria-controls'));
  const headers = await admin.page.evaluate(() =>
    fetch('/contacts').then((r) => r.headers.get('referrer-policy')),
  );
  expect(headers).toBe('no-referrer');
  await admin.context.close();
});
