import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EMAIL_KINDS, EMAIL_LANGUAGES, renderEmail, type Language } from '../activities/email-templates';
import { sampleEmailContext } from '../activities/mail-samples';
import { launchChromium, SCREENSHOT_DIR } from '../test/helpers/browser';

/**
 * npm run mail-screenshots: every mail (each template, in es/en/fr) rendered in Chromium as a mail client shows
 * its HTML, at desktop and phone width, and in dark mode in English, into screenshots/mails/.
 */
const WIDTHS = { desktop: 900, phone: 375 } as const;
const DARK_LANGUAGE: Language = 'en';

async function main() {
  const dir = join(SCREENSHOT_DIR, 'mails');
  mkdirSync(dir, { recursive: true });
  const browser = await launchChromium();
  let count = 0;
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const [device, width] of Object.entries(WIDTHS)) {
        const context = await browser.newContext({
          viewport: { width, height: 800 },
          colorScheme: scheme,
          // Mail is read offline: nothing in a mail may need the network (no remote images or fonts).
          offline: true,
          javaScriptEnabled: false,
        });
        const page = await context.newPage();
        for (const language of scheme === 'dark' ? [DARK_LANGUAGE] : EMAIL_LANGUAGES) {
          for (const kind of EMAIL_KINDS) {
            const mail = await renderEmail(language, kind, sampleEmailContext(language, kind));
            await page.setContent(mail.html, { waitUntil: 'load' });
            const name = `${language}-${kind}-${device}${scheme === 'dark' ? '-dark' : ''}.png`;
            await page.screenshot({ path: join(dir, name), fullPage: true });
            count++;
          }
        }
        await context.close();
        process.stdout.write(`${scheme} ${device}: done\n`);
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(`${count} screenshots in ${dir}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
