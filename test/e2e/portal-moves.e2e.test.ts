import { expectAccessible, expectCount, PHONE, portalWorld, screenshot } from '../helpers/browser';
import { readCodeEmail } from '../../lib/mailbox';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';

// Issue 12 in the portal: many services' contacts moved at once, from the services page to the result.
const MOVER = 'mo50001-ovh'; // Spanish: an agency handing its client's services back
const CLIENT = 'cl50002-ovh'; // English: the client taking them
const BILLING = 'bi50003-ovh'; // French
const OTHER = 'ot50004-ovh'; // English
const { world, newPerson, loginAt, askChange } = portalWorld();
const AGENCY = ['a1', 'a2', 'a3', 'a4', 'a5'].map((n) => `${n}.agency.example`);

jest.setTimeout(150_000); // a browser, the stack and the worker share CI's two cores

beforeAll(async () => {
  await createAccounts(world.stack.database.db, [
    { handle: MOVER, language: 'es' },
    { handle: CLIENT, language: 'en' },
    { handle: BILLING, language: 'fr' },
    { handle: OTHER, language: 'en' },
  ]);
  for (const name of [...AGENCY, 'elsewhere.example'])
    await createService(world.stack.database.db, { name, admin: MOVER, tech: MOVER, billing: BILLING });
});

test('select all matching the filter, choose to whom and which roles, review the dry run grouped by reason', async () => {
  const mover = await newPerson({ locale: 'es-ES' });
  await loginAt(mover.page, MOVER);
  // A request already open on one of them: the review says that service cannot move, and why.
  await askChange(mover.page, AGENCY[4], /técnico/, OTHER);
  await mover.page.getByRole('button', { name: 'Confirmar' }).click();
  await mover.page.locator('#editor-result').waitFor();

  await mover.page.goto(`${world.base}/contacts`);
  await mover.page.getByLabel('El nombre contiene').fill('agency');
  await mover.page.getByRole('button', { name: 'Filtrar' }).click();
  await mover.page.waitForURL(/name=agency/);
  await expectCount(mover.page.locator('tbody tr'), AGENCY.length);
  // One by one first, then every service matching the filter (on every page).
  await mover.page.getByLabel(`Seleccionar ${AGENCY[0]}`).check();
  await mover.page.getByLabel(`Seleccionar ${AGENCY[1]}`).check();
  await mover.page.getByText('2 servicio(s) seleccionado(s).').waitFor();
  await mover.page.getByRole('button', { name: 'Seleccionar todos los que coinciden con el filtro' }).click();
  await mover.page.getByText('Están seleccionados todos los servicios que coinciden con el filtro').waitFor();
  await mover.page.getByRole('button', { name: 'Mover contactos…' }).click();
  await mover.page.getByRole('heading', { name: 'Mover contactos' }).waitFor();
  await mover.page.getByRole('button', { name: 'Revisar el cambio' }).click();
  await mover.page.locator('#move-roles-error', { hasText: 'Elija al menos una función.' }).waitFor();
  await mover.page.getByLabel('Nuevo contacto (identificador de cliente)').fill(CLIENT);
  await mover.page.getByLabel('administrador').check();
  await mover.page.getByLabel('técnico').check();
  await expectAccessible(mover.page, 'move contacts, to whom and which roles');
  await screenshot(mover.page, 'move-01-to-whom');
  await mover.page.getByRole('button', { name: 'Revisar el cambio' }).click();

  await mover.page.getByRole('heading', { name: 'Revise el cambio' }).waitFor();
  expect(await mover.page.evaluate(() => document.activeElement?.id)).toBe('move-review-title');
  await mover.page
    .getByText('5 servicio(s) seleccionado(s): 4 pueden cambiar, 1 no. Todavía no se ha enviado nada.')
    .waitFor();
  await mover.page
    .getByText(new RegExp(`Validarán, cada uno con un solo código .*${CLIENT} \\(4 servicio`))
    .waitFor();
  await mover.page.getByText('Cambiarán (4)').waitFor();
  const blocked = mover.page.locator('details', {
    hasText: 'Ya hay una solicitud abierta para esta función (1)',
  });
  await blocked.locator('summary').click();
  await blocked.getByText(AGENCY[4]).waitFor();
  expect(await mover.page.locator('#move-review').innerText()).not.toContain('elsewhere.example');
  await expectAccessible(mover.page, 'move review');
  await screenshot(mover.page, 'move-02-review');
  // Nothing was created by the review.
  expect(await world.stack.database.db.contactChangeTask.count({ where: { moveId: { not: null } } })).toBe(0);
  await mover.page.setViewportSize(PHONE);
  await screenshot(mover.page, 'move-02-review-phone');
  await mover.context.close();
});

test('confirm the move, validate it from each mail leaving one service out, watch the progress, see the result', async () => {
  const mover = await newPerson({ locale: 'es-ES' });
  await loginAt(mover.page, MOVER);
  await mover.page.goto(`${world.base}/contacts?name=agency`);
  await expectCount(mover.page.locator('tbody tr'), AGENCY.length);
  await mover.page.getByRole('button', { name: 'Seleccionar todos los que coinciden con el filtro' }).click();
  await mover.page.getByRole('button', { name: 'Mover contactos…' }).click();
  await mover.page.getByLabel('Nuevo contacto (identificador de cliente)').fill(CLIENT);
  await mover.page.getByLabel('administrador').check();
  await mover.page.getByLabel('técnico').check();
  await mover.page.getByRole('button', { name: 'Revisar el cambio' }).click();
  const mark = world.stack.mailbox.messages().length;
  await mover.page.getByRole('button', { name: 'Confirmar el cambio de 4 servicio(s)' }).click();
  await mover.page.waitForURL(/\/moves\/\d+$/);
  const moveId = Number(/\/moves\/(\d+)$/.exec(mover.page.url())![1]);
  await mover.page.getByRole('heading', { level: 1, name: `Cambio múltiple ${moveId}` }).waitFor();
  await mover.page.locator('article.move dd', { hasText: 'pendiente de validación' }).waitFor();
  await mover.page.getByText('0 aplicados, 1 omitidos, 0 no cambiados, 4 pendientes, de 5.').waitFor();
  await mover.page.getByRole('button', { name: `Enviar un código nuevo a ${CLIENT}` }).waitFor();
  await expectAccessible(mover.page, 'move awaiting validation');
  await screenshot(mover.page, 'move-03-awaiting');

  const mailTo = (handle: string) =>
    world.stack.mailbox
      .waitFor(
        (m) =>
          m.id > mark &&
          m.to.includes(`${handle}@mail.test`) &&
          m.text.includes(`/validate-move/${moveId}#code=`),
      )
      .then(readCodeEmail);
  const [moverMail, clientMail] = [await mailTo(MOVER), await mailTo(CLIENT)];

  // The client validates from its mail, leaving one service out.
  const client = await newPerson();
  await loginAt(client.page, CLIENT);
  await client.page.goto(clientMail.link);
  await client.page.getByRole('heading', { level: 1, name: `Validate move ${moveId}` }).waitFor();
  expect(await client.page.getByLabel('Verification code (token)').inputValue()).toBe(clientMail.code);
  await client.page.getByRole('checkbox', { name: new RegExp(AGENCY[1].replace(/\./g, '\\.')) }).uncheck();
  await expectAccessible(client.page, 'validate a move, one service left out');
  await screenshot(client.page, 'move-04-validate-leaving-one-out');
  await client.page.getByRole('button', { name: 'Accept, leaving 1 service(s) out' }).click();
  await client.page.getByText('Accepted, with 1 service(s) left out.').waitFor();

  // The mover validates from its own mail; its move's page follows the apply to the end without a reload.
  await mover.page.goto(moverMail.link);
  expect(await mover.page.getByLabel('Código de verificación (token)').inputValue()).toBe(moverMail.code);
  await mover.page.getByRole('button', { name: 'Aceptar', exact: true }).click();
  await mover.page.getByText('Aceptado. Los servicios cambian cuando todos hayan aceptado.').waitFor();
  await mover.page.goto(`${world.base}/moves/${moveId}`);
  await mover.page.locator('article.move dd', { hasText: 'realizado' }).waitFor();
  await mover.page.getByText('3 aplicados, 1 omitidos, 1 no cambiados, 0 pendientes, de 5.').waitFor();
  expect(await mover.page.locator('progress').evaluate((p: HTMLProgressElement) => p.value)).toBe(5);
  await mover.page
    .getByRole('row', { name: new RegExp(AGENCY[1].replace(/\./g, '\\.')) })
    .getByText('excluido por un validador')
    .waitFor();
  await expectAccessible(mover.page, 'move done');
  await screenshot(mover.page, 'move-05-done');
  for (const name of [AGENCY[0], AGENCY[2], AGENCY[3]])
    expect(await contactsOf(world.stack.database.db, name)).toMatchObject({ admin: CLIENT, tech: CLIENT });
  expect(await contactsOf(world.stack.database.db, AGENCY[1])).toMatchObject({ admin: MOVER, tech: MOVER });

  // My requests shows the move as one card.
  await mover.page.goto(`${world.base}/requests?view=all`);
  await mover.page.getByRole('heading', { name: 'Cambios de varios servicios' }).waitFor();
  await mover.page.getByRole('link', { name: `Cambio múltiple ${moveId}` }).waitFor();
  await mover.context.close();
  await client.context.close();
});
