import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  EMAIL_KINDS,
  EMAIL_LANGUAGES,
  renderEmail,
  type EmailKind,
  type Language,
} from '../activities/email-templates';
import { sampleEmailContext } from '../activities/mail-samples';
import { launchChromium, SCREENSHOT_DIR } from '../test/helpers/browser';

/**
 * npm run mail-screenshots: every mail (each template, in es/en/fr) rendered in Chromium as a mail client shows
 * its HTML, at desktop and phone width, and in dark mode in English, into screenshots/mails/.
 */
export const MAIL_SCREENSHOT_DIR = join(SCREENSHOT_DIR, 'mails');
const WIDTHS = { desktop: 900, phone: 375 } as const;
const DARK_LANGUAGE: Language = 'en';

/** What the page showed, for the tests: overflow at phone width, the button's size, the colours read. */
export interface MailView {
  language: Language;
  kind: EmailKind;
  device: keyof typeof WIDTHS;
  scheme: 'light' | 'dark';
  width: number;
  scrollWidth: number;
  button?: { width: number; height: number };
  bodyBackground: string;
  textColor: string;
}

export async function screenshotMails(browser: Browser): Promise<MailView[]> {
  mkdirSync(MAIL_SCREENSHOT_DIR, { recursive: true });
  const views: MailView[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    for (const [device, width] of Object.entries(WIDTHS) as [keyof typeof WIDTHS, number][]) {
      const context = await browser.newContext({
        viewport: { width, height: 800 },
        colorScheme: scheme,
        // Mail is read offline and without scripts: nothing in a mail may need either.
        offline: true,
        javaScriptEnabled: false,
      });
      const page = await context.newPage();
      for (const language of scheme === 'dark' ? [DARK_LANGUAGE] : EMAIL_LANGUAGES) {
        for (const kind of EMAIL_KINDS) {
          const mail = await renderEmail(language, kind, sampleEmailContext(language, kind));
          await page.setContent(mail.html, { waitUntil: 'load' });
          const name = `${language}-${kind}-${device}${scheme === 'dark' ? '-dark' : ''}.png`;
          await page.screenshot({ path: join(MAIL_SCREENSHOT_DIR, name), fullPage: true });
          const buttons = page.locator('.button a');
          const button = (await buttons.count()) > 0 ? await buttons.first().boundingBox() : null;
          const measured = await page.evaluate(() => ({
            scrollWidth: document.documentElement.scrollWidth,
            bodyBackground: getComputedStyle(document.body).backgroundColor,
            textColor: getComputedStyle(document.querySelector('.card div div') ?? document.body).color,
          }));
          views.push({
            language,
            kind,
            device,
            scheme,
            width,
            ...measured,
            ...(button ? { button: { width: button.width, height: button.height } } : {}),
          });
        }
      }
      await context.close();
    }
  }
  return views;
}

async function main() {
  const browser = await launchChromium();
  try {
    const views = await screenshotMails(browser);
    process.stdout.write(`${views.length} screenshots in ${MAIL_SCREENSHOT_DIR}\n`);
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
