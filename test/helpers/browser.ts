import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { readCodeEmail } from '../../lib/mailbox';
import { freePort } from '../../lib/net';
import { buildPortal } from '../../scripts/build-portal';
import { contactsOf, PASSWORD } from './fixtures';
import { startStack, type Stack } from './stack';

export const SCREENSHOT_DIR = join(__dirname, '..', '..', 'screenshots');
export const PHONE = { width: 390, height: 844 };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page (WCAG 2.1 A and AA, colour contrast included) and fails on any violation. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE); // through the debugger: the portal's CSP allows no inline script
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (options: unknown) => Promise<AxeResults> } }).axe;
    const results = await axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  if (violations.length) throw new Error(`accessibility violations on ${screen}:\n${violations.join('\n')}`);
}
interface AxeResults {
  violations: { id: string; nodes: { target: string[] }[] }[];
}

/** The real stack served over HTTP, a Chromium, and the steps a person takes in the portal. */
export function portalWorld(options: { env?: Record<string, string>; webhooks?: boolean } = {}) {
  const world = {} as { stack: Stack; server: Server; browser: Browser; base: string };

  beforeAll(async () => {
    const port = await freePort();
    world.base = `http://127.0.0.1:${port}`;
    [world.stack, world.browser] = await Promise.all([
      startStack({ env: { ...options.env, PUBLIC_BASE_URL: world.base }, webhooks: options.webhooks }),
      launchChromium(),
      buildPortal(), // the bundle of the sources under test, also when jest runs alone
    ]);
    world.server = world.stack.app.listen(port, '127.0.0.1');
  });
  afterAll(async () => {
    await world.browser?.close();
    await new Promise((resolve) => (world.server ? world.server.close(resolve) : resolve(undefined)));
    await world.stack?.teardown();
  });

  async function newPerson(options: { locale?: string; viewport?: { width: number; height: number } } = {}) {
    const context = await world.browser.newContext({
      locale: options.locale ?? 'en-GB',
      viewport: options.viewport ?? { width: 1280, height: 900 },
    });
    return { context, page: await context.newPage() };
  }

  async function logIn(page: Page, handle: string, passwordLabel = /contraseña|password|mot de passe/i) {
    await page.getByLabel(/identifi|handle/i).fill(handle);
    await page.getByLabel(passwordLabel).fill(PASSWORD);
    await page.keyboard.press('Enter');
  }

  async function loginAt(page: Page, handle: string) {
    await page.goto(`${world.base}/login`);
    await logIn(page, handle);
    await page.waitForURL((url) => url.pathname !== '/login');
  }

  async function askChange(page: Page, service: string, fieldLabel: RegExp, newHandle: string) {
    await page.goto(`${world.base}/contacts`);
    await page.getByRole('button', { name: new RegExp(service.replace(/\./g, '\\.')) }).click();
    await page.getByRole('button', { name: /modif/i }).click();
    await page.getByLabel(fieldLabel).fill(newHandle);
  }

  const codeFor = (handle: string, after = 0) =>
    world.stack.mailbox
      .waitFor(
        (m) => m.id > after && m.to.includes(`${handle}@mail.test`) && /\/validate\/\d+#code=/.test(m.text),
      )
      .then(readCodeEmail);

  async function waitForContacts(name: string, expected: Partial<Awaited<ReturnType<typeof contactsOf>>>) {
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const contacts = await contactsOf(world.stack.database.db, name);
      if (
        Object.entries(expected).every(([role, handle]) => contacts[role as keyof typeof contacts] === handle)
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`contacts of ${name} did not become ${JSON.stringify(expected)}`);
  }

  return { world, newPerson, logIn, loginAt, askChange, codeFor, waitForContacts };
}

// playwright-core ships no test runner: small waiting assertions over its locators
export async function eventually(check: () => Promise<boolean>, what: string) {
  const until = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
export const expectCount = (locator: Locator, n: number) =>
  eventually(async () => (await locator.count()) === n, `expected ${n} element(s) for ${locator}`);
export const expectAttribute = (locator: Locator, name: string, value: string) =>
  eventually(
    async () => (await locator.getAttribute(name)) === value,
    `expected ${name}="${value}" on ${locator}`,
  );
