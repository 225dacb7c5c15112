import type { Page } from 'playwright-core';
import { expectAccessible, PHONE, portalWorld, screenshot } from '../helpers/browser';
import { createAccounts, createService } from '../helpers/fixtures';

// Every screen of the portal in its three languages, at desktop and phone width: a screenshot of each (screenshots/)
// and an accessibility audit (axe-core) of each.
const { world, newPerson, loginAt } = portalWorld();
const LANGUAGES = [
  { language: 'es', locale: 'es-ES', admin: 'es30001-ovh', newcomer: 'es30002-ovh' },
  { language: 'fr', locale: 'fr-FR', admin: 'fr30003-ovh', newcomer: 'fr30004-ovh' },
  { language: 'en', locale: 'en-GB', admin: 'en30005-ovh', newcomer: 'en30006-ovh' },
] as const;
const TECH = 'te30007-ovh';
const BILLING = 'bi30008-ovh';

jest.setTimeout(300_000); // 3 languages × 2 widths × 15 screens on CI's two cores

beforeAll(async () => {
  await createAccounts(world.stack.database.db, [
    ...LANGUAGES.flatMap((l) => [
      { handle: l.admin, language: l.language },
      { handle: l.newcomer, language: l.language },
    ]),
    { handle: TECH },
    { handle: BILLING },
  ]);
  for (const l of LANGUAGES)
    for (const name of [`shop-${l.language}.example`, `blog-${l.language}.example`])
      await createService(world.stack.database.db, { name, admin: l.admin, tech: TECH, billing: BILLING });
});

async function shoot(page: Page, name: string, audit: boolean) {
  await page.locator('body.ready').waitFor();
  if (audit) await expectAccessible(page, name);
  await screenshot(page, name);
}

test.each(LANGUAGES)('every screen in $language, at desktop and phone width', async (l) => {
  const taskIds: string[] = [];
  const moveIds: string[] = [];
  for (const [width, viewport] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', PHONE],
  ] as const) {
    const audit = width === 'desktop' || l.language === 'en';
    const name = (n: string) => `screen-${l.language}-${width}-${n}`;
    const person = await newPerson({ locale: l.locale, viewport });
    const { page } = person;
    await page.goto(`${world.base}/login`);
    await shoot(page, name('01-login'), audit);
    await loginAt(page, l.admin);
    await page.locator('tbody tr').first().waitFor();
    await shoot(page, name('02-contacts'), audit);
    // the phone header: one compact band, not a third of the screen
    if (width === 'phone') expect((await page.locator('#header').boundingBox())!.height).toBeLessThan(90);
    // many services at once: all matching the filter, to whom and which roles, the dry run's review
    await page.locator('.selection-bar button.secondary').first().click();
    await page.locator('#move-open').click();
    await page.locator('#move-to').fill(l.newcomer);
    await page.locator('#move-roles input[value="contactTech"]').check();
    await shoot(page, name('02b-move-to-whom'), audit);
    await page.locator('#move-panel button[type="submit"]').click();
    await page.locator('#move-review').waitFor();
    await shoot(page, name('02c-move-review'), audit);
    await page.goto(`${world.base}/contacts`);
    await page.locator('tbody tr').first().waitFor();
    await page.getByRole('button', { name: new RegExp(`shop-${l.language}`) }).click();
    await shoot(page, name('03-row-menu'), false);
    await page.locator('.menu:not([hidden]) button').click();
    if (taskIds.length === 0) {
      await page.locator('#new-contactTech').fill(l.newcomer);
      await page.locator('.preview').waitFor();
      await shoot(page, name('04-modify-with-preview'), audit);
      await page.locator('form button[type="submit"]').last().click();
      await page.locator('#editor-result').waitFor();
      taskIds.push(...(await page.locator('#editor-result').innerText()).match(/\d+/g)!.slice(0, 1));
      await shoot(page, name('05-request-created'), false);
    } else {
      await page.locator('#new-contactTech').fill('zz99999-ovh');
      await page.locator('#new-contactTech-error').waitFor();
      await shoot(page, name('04-modify-with-error'), audit);
    }
    await page.goto(`${world.base}/requests`);
    await page.locator('article.task').first().waitFor();
    await shoot(page, name('06-my-requests'), audit);
    await page.goto(`${world.base}/validate/${taskIds[0]}`);
    await page.locator('article.task').waitFor();
    await page.locator('details.timeline summary').click();
    await shoot(page, name('07-validate-with-timeline'), audit);
    await page.goto(`${world.base}/profile`);
    await shoot(page, name('08-profile'), audit);
    await page.goto(`${world.base}/api-keys`);
    await page.locator('#keys-title').waitFor();
    await shoot(page, name('09-api-keys'), audit);
    if (moveIds.length === 0) {
      // one move of one service, chosen by its checkbox, confirmed after the review
      await page.goto(`${world.base}/contacts`);
      await page
        .locator(`tbody tr`, { hasText: `blog-${l.language}` })
        .locator('td.select input')
        .check();
      await page.locator('#move-open').click();
      await page.locator('#move-to').fill(l.newcomer);
      await page.locator('#move-roles input[value="contactAdmin"]').check();
      await page.locator('#move-panel button[type="submit"]').click();
      await page.locator('#move-review button:not(.secondary)').click();
      await page.waitForURL(/\/moves\/\d+$/);
      moveIds.push(/\/moves\/(\d+)$/.exec(page.url())![1]);
    }
    await page.goto(`${world.base}/moves/${moveIds[0]}`);
    await page.locator('article.move progress').waitFor();
    await shoot(page, name('12-move'), audit);
    await page.goto(`${world.base}/validate-move/${moveIds[0]}`);
    await page.locator('fieldset.move-services input').first().waitFor();
    await shoot(page, name('13-validate-move'), audit);
    await page.goto(`${world.base}/webhooks`);
    await page.locator('#webhooks-list-title').waitFor();
    await shoot(page, name('11-webhooks'), audit);
    await page.goto(`${world.base}/no/such/page`);
    await shoot(page, name('10-not-found'), audit);
    await person.context.close();
  }
});
