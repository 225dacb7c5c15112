import type { Browser } from 'playwright-core';
import { screenshotMails, type MailView } from '../../scripts/mail-screenshots';
import { EMAIL_KINDS } from '../../activities/email-templates';
import { launchChromium } from '../helpers/browser';

let browser: Browser;
let views: MailView[];

beforeAll(async () => {
  browser = await launchChromium();
  views = await screenshotMails(browser);
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

/** Relative luminance contrast of two CSS rgb() colours (WCAG 2). */
function contrast(a: string, b: string): number {
  const luminance = (color: string) => {
    const [r, g, b] = (color.match(/\d+(\.\d+)?/g) ?? [])
      .slice(0, 3)
      .map(Number)
      .map((c) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

test('every mail is screenshotted in es/en/fr at desktop and phone width, and in dark mode', () => {
  // every kind (the moves' too) in three languages at two widths, and in dark mode in one language at two widths
  expect(views).toHaveLength(EMAIL_KINDS.length * 3 * 2 + EMAIL_KINDS.length * 2);
  expect(EMAIL_KINDS.length).toBeGreaterThanOrEqual(9);
});

test('no mail scrolls sideways on a phone', () => {
  const overflowing = views.filter((v) => v.device === 'phone' && v.scrollWidth > v.width);
  expect(overflowing.map((v) => `${v.language} ${v.kind} ${v.scheme}: ${v.scrollWidth}px`)).toEqual([]);
});

test('the validation button is a comfortable tap target (44 px high or more) everywhere it appears', () => {
  const codeMails = views.filter((v) => v.kind === 'code');
  expect(codeMails.every((v) => v.button !== undefined)).toBe(true);
  const small = views.filter((v) => v.button && v.button.height < 44);
  expect(small.map((v) => `${v.language} ${v.kind} ${v.device}: ${v.button!.height}px`)).toEqual([]);
});

test('dark mode turns the page dark and keeps the text readable', () => {
  for (const view of views.filter((v) => v.scheme === 'dark')) {
    expect(contrast(view.bodyBackground, 'rgb(0, 0, 0)')).toBeLessThan(1.5);
    expect(contrast(view.textColor, view.bodyBackground)).toBeGreaterThan(7);
  }
  for (const view of views.filter((v) => v.scheme === 'light'))
    expect(contrast(view.textColor, 'rgb(255, 255, 255)')).toBeGreaterThan(7);
});
