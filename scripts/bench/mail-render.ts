import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import {
  EMAIL_KINDS,
  EMAIL_LANGUAGES,
  prepareEmails,
  renderEmail,
  type RenderedEmail,
} from '../../activities/email-templates';
import { sampleEmailContext } from '../../activities/mail-samples';

/**
 * npm run bench:mail: what one mail costs the mail activities on the hot path of each story: rendering it
 * (every template × language), then building its MIME message as nodemailer does before sending, unsigned and
 * DKIM-signed (RSA 2048). Prints a table; asserts nothing. BENCH_MAIL_ROUNDS (default 500) tunes it.
 */
const ROUNDS = Number(process.env.BENCH_MAIL_ROUNDS ?? 500);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const us = (value: number) => `${(value * 1000).toFixed(1)} µs`;

interface Timing {
  sorted: number[];
  /** CPU time per call (user + system): on a loaded machine it moves far less than the wall time. */
  cpuMs: number;
}

async function timed<T>(count: number, run: (i: number) => Promise<T>): Promise<Timing> {
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await run(i);
    times.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuStart);
  return { sorted: times.sort((a, b) => a - b), cpuMs: (cpu.user + cpu.system) / 1000 / count };
}

const summary = ({ sorted, cpuMs }: Timing) =>
  `${us(percentile(sorted, 0.5))} / ${us(percentile(sorted, 0.99))} / ${us(cpuMs)}`;

const dkim = {
  domainName: 'contacts.example.com',
  keySelector: 'bench',
  privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
};

// nodemailer's own path to the wire (headers, MIME encoding, DKIM signing), kept in memory instead of sent.
const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });

async function build(mail: RenderedEmail, signed: boolean): Promise<Buffer> {
  const info = await transport.sendMail({
    from: 'Contacts <no-reply@contacts.example.com>',
    to: 'someone@example.com',
    ...mail,
    ...(signed ? { dkim } : {}),
  });
  return info.message as Buffer;
}

async function main() {
  const prepareStart = performance.now();
  await prepareEmails();
  const prepare = performance.now() - prepareStart;
  const cases = EMAIL_LANGUAGES.flatMap((language) => EMAIL_KINDS.map((kind) => ({ language, kind })));
  const contexts = cases.map(({ language, kind }) => sampleEmailContext(language, kind));
  const render = (i: number) =>
    renderEmail(cases[i % cases.length].language, cases[i % cases.length].kind, contexts[i % cases.length]);
  const rendered = await Promise.all(cases.map((_, i) => render(i)));
  const count = ROUNDS * cases.length;
  const renders = await timed(count, render);
  const texts = rendered.map((mail) => ({ subject: mail.subject, text: mail.text }) as RenderedEmail);
  const textOnly = await timed(count, (i) => build(texts[i % cases.length], false));
  const withHtml = await timed(count, (i) => build(rendered[i % cases.length], false));
  const signed = await timed(Math.ceil(count / 10), (i) => build(rendered[i % cases.length], true));
  const sizes = await Promise.all(rendered.map((mail) => build(mail, false)));
  const textSizes = await Promise.all(texts.map((mail) => build(mail, false)));
  const mean = (buffers: Buffer[]) =>
    Math.round(buffers.reduce((sum, b) => sum + b.length, 0) / buffers.length);
  const rows = [
    [
      'prepare every template, language and variant (worker start, HTML compiled by the build)',
      `${prepare.toFixed(0)} ms`,
    ],
    [`render one mail (text + HTML), p50 / p99 / CPU (${count})`, summary(renders)],
    ['its MIME message by nodemailer, text only, p50 / p99 / CPU', summary(textOnly)],
    ['its MIME message by nodemailer, text + HTML, p50 / p99 / CPU', summary(withHtml)],
    ['the same, DKIM-signed (RSA 2048), p50 / p99 / CPU', summary(signed)],
    ['mean MIME size, text only / text + HTML', `${mean(textSizes)} B / ${mean(sizes)} B`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const line = (a: string, b: string) => `| ${a.padEnd(width)} | ${b.padEnd(valueWidth)} |\n`;
  process.stdout.write(line('one mail', 'value') + line('-'.repeat(width), '-'.repeat(valueWidth)));
  for (const [name, value] of rows) process.stdout.write(line(name, value));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
