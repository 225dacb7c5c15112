import { performance } from 'node:perf_hooks';
import {
  renderEmail,
  type EmailContext,
  type EmailKind,
  type Language,
} from '../../activities/email-templates';

/**
 * npm run bench:mail: how long rendering one mail takes (every template × language), as the mail activities do
 * it on the hot path of each story. Prints a table; asserts nothing. BENCH_MAIL_ROUNDS (default 2000) tunes it.
 */
const ROUNDS = Number(process.env.BENCH_MAIL_ROUNDS ?? 2000);
const LANGUAGES: Language[] = ['es', 'en', 'fr'];
const KINDS: EmailKind[] = [
  'code',
  'informedCreated',
  'reminder',
  'done',
  'doneInformed',
  'refused',
  'expired',
  'aborted',
];

const context = (i: number): EmailContext => ({
  taskId: 1000 + i,
  serviceName: `story-${i}.example`,
  serviceType: 'domain',
  roles: 'technical',
  fromAccount: 'te22222-ovh',
  toAccount: 'ne44444-ovh',
  askingAccount: 'xx11111-ovh',
  recipient: 'xx11111-ovh',
  reason: 'refusedByContact',
  expiresAt: '5 December 2026 at 10:00 UTC',
  code: 'K7P2-9XQM',
  validationLink: `https://contacts.example/validate/${1000 + i}#code=K7P2-9XQM`,
  requestsLink: 'https://contacts.example/requests',
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main() {
  const coldStart = performance.now();
  await renderEmail('es', 'code', context(0));
  const cold = performance.now() - coldStart;
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) {
    for (const language of LANGUAGES) {
      for (const kind of KINDS) {
        const start = performance.now();
        const mail = await renderEmail(language, kind, context(i));
        times.push(performance.now() - start);
        bytes += mail.text.length + ((mail as { html?: string }).html?.length ?? 0);
      }
    }
  }
  times.sort((a, b) => a - b);
  const us = (value: number) => `${(value * 1000).toFixed(1)} µs`;
  const rows = [
    ['first mail (module loaded, templates prepared on first use)', `${cold.toFixed(1)} ms`],
    [`per mail, p50 (${times.length} mails)`, us(percentile(times, 0.5))],
    ['per mail, p99', us(percentile(times, 0.99))],
    ['mean size of a rendered mail (text + HTML characters)', `${Math.round(bytes / times.length)}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(`| ${'mail rendering'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | ----- |\n`);
  for (const [name, value] of rows) process.stdout.write(`| ${name.padEnd(width)} | ${value} |\n`);
}

void main();
