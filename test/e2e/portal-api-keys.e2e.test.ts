import { expectAccessible, expectCount, portalWorld, screenshot } from '../helpers/browser';
import { createAccounts } from '../helpers/fixtures';

// Issue 11, finding 2, in the portal: consent that says who, what, where and how long; keys one can see and revoke;
// an email change that waits for the new address.
const OWNER = 'ow20001-ovh'; // French
const { world, newPerson, loginAt } = portalWorld();

jest.setTimeout(120_000); // a browser, the stack and the worker share CI's two cores

beforeAll(async () => {
  await createAccounts(world.stack.database.db, [{ handle: OWNER, language: 'fr' }]);
});

test('an application is created, its consent page names it, its rules, its redirection and a validity; its key is listed and revoked', async () => {
  const owner = await newPerson({ locale: 'fr-FR' });
  await loginAt(owner.page, OWNER);
  await owner.page.getByRole('link', { name: "Clés d'API" }).click();
  await owner.page.getByLabel('Nom').fill('Mon script de sauvegarde');
  await owner.page.getByRole('button', { name: 'Créer' }).click();
  await owner.page.getByText('Copiez son secret maintenant').waitFor();
  const appKey = await owner.page.locator('#app-created dd code').first().innerText();
  await expectAccessible(owner.page, 'API keys, application created');
  await screenshot(owner.page, 'corner-api-keys-created');

  const asked = await owner.page.request.post(`${world.base}/1.0/auth/credential`, {
    headers: { 'X-Ovh-Application': appKey, 'Content-Type': 'application/json' },
    data: {
      accessRules: [
        { method: 'GET', path: '/me' },
        { method: 'ALL', path: '/*' },
      ],
      redirection: 'https://app.example/back',
    },
  });
  expect(asked.status()).toBe(200);
  const { validationUrl } = (await asked.json()) as { validationUrl: string };
  await owner.page.goto(validationUrl.replace(/^https?:\/\/[^/]+/, world.base));
  await owner.page.getByText('« Mon script de sauvegarde » demande à utiliser').waitFor();
  await owner.page.getByText('consulter /me').waitFor();
  await owner.page.getByText("faire n'importe quoi sur tout votre compte").waitFor();
  await owner.page.getByText('Ensuite, votre navigateur ira sur app.example.').waitFor();
  await owner.page.getByLabel('30 jours').check();
  await expectAccessible(owner.page, 'consent');
  await screenshot(owner.page, 'corner-consent');
  await owner.page.route('https://app.example/**', (route) => route.fulfill({ body: 'back at the app' }));
  await owner.page.getByRole('button', { name: 'Autoriser' }).click();
  await owner.page.waitForURL('https://app.example/back');

  await owner.page.goto(`${world.base}/api-keys`);
  const key = owner.page.locator('li.key');
  await key.getByText('active').waitFor();
  const ends = await key.locator('dd').nth(2).innerText();
  const days = (Date.parse(ends) || 0) === 0 ? undefined : ends; // shown in the person's locale
  expect(days ?? ends).not.toContain('jamais');
  await owner.page.getByRole('button', { name: /Révoquer la clé/ }).click();
  await owner.page.getByText(/Clé \d+ révoquée\./).waitFor();
  await expectCount(owner.page.locator('li.key'), 0);
  await owner.context.close();
});

test('a new email address waits for the link mailed to it, and the profile says so', async () => {
  const owner = await newPerson({ locale: 'fr-FR' });
  await loginAt(owner.page, OWNER);
  await owner.page.goto(`${world.base}/profile`);
  const mark = world.stack.mailbox.messages().length;
  await owner.page.getByLabel('Adresse e-mail').fill('nouvelle@mail.test');
  await owner.page.getByRole('button', { name: 'Enregistrer' }).click();
  await owner.page.getByText(`Un lien de confirmation a été envoyé à nouvelle@mail.test`).waitFor();
  await owner.page.getByText(`les e-mails arrivent toujours à ${OWNER}@mail.test`).waitFor();
  await expectAccessible(owner.page, 'profile, email change pending');
  await screenshot(owner.page, 'corner-profile-email-pending');
  const mail = await world.stack.mailbox.waitFor((m) => m.id > mark && m.to.includes('nouvelle@mail.test'));
  const link = /(https?:\/\/\S+\/profile#confirmEmail=[\w-]+)/.exec(mail.text)![1];
  await owner.page.goto(link.replace(/^https?:\/\/[^/]+/, world.base));
  await owner.page.getByText('Votre adresse e-mail est maintenant nouvelle@mail.test.').waitFor();
  expect(await owner.page.getByLabel('Adresse e-mail').inputValue()).toBe('nouvelle@mail.test');
  await owner.context.close();
});
