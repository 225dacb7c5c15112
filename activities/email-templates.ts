import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmailTemplate } from '../workflows/contact-change.activities';
import type { MoveMailKind } from './mail-content-moves';
import { LANGUAGE_PACKS, type Language, type MailKind, type Variant } from './mail-content';
import {
  compileMjml,
  fill,
  fillSentence,
  htmlLayoutOf,
  mjmlSource,
  subjectLayout,
  textLayout,
  type Layout,
  type Values,
} from './mail-layout';
import { escapeHtml } from '../lib/html';
import { serviceTypeName } from '../domain/service-type-names';

export type { Language } from './mail-content';
export type EmailKind = EmailTemplate | 'code' | MoveMailKind;

export interface EmailContext {
  taskId: number;
  serviceName: string;
  serviceType: string;
  roles: string;
  fromAccount: string;
  toAccount: string;
  askingAccount: string;
  /** Who validates the request and where each stands (pending, accepted, refused). */
  validators?: { handle: string; status: string }[];
  recipient: string;
  reason?: string;
  expiresAt: string;
  code?: string;
  /** A code mail sent again on request: its code replaces the previous one. */
  resent?: boolean;
  /** needsAttention, moveNeedsAttention: the handle whose address refused the mail. */
  undeliverable?: string;
  validationLink: string;
  requestsLink: string;
  /** A move's mail: how many services (for the recipient), and the outcome counts of its end. */
  move?: { count: number; applied: number; skipped: number; refused: number };
}

/** One mail, as text and as HTML with the same content (the text is the multipart alternative). */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export const EMAIL_LANGUAGES: Language[] = ['es', 'en', 'fr'];
export const EMAIL_KINDS: EmailKind[] = [
  'code',
  'informedCreated',
  'reminder',
  'done',
  'doneInformed',
  'refused',
  'expired',
  'aborted',
  'needsAttention',
  'moveCode',
  'moveInformed',
  'moveReminder',
  'moveDone',
  'moveNotDone',
  'moveNeedsAttention',
];

const packOf = (language: Language) => LANGUAGE_PACKS[language] ?? LANGUAGE_PACKS.en;

const listFormats = new Map<Language, Intl.ListFormat>();
/** "a, b and c" in the language (one Intl formatter per language, kept: building one costs far more). */
function list(language: Language, items: string[]): string {
  let format = listFormats.get(language);
  if (!format) {
    format = new Intl.ListFormat(language, { style: 'long', type: 'conjunction' });
    listFormats.set(language, format);
  }
  return format.format(items);
}

/** The roles as the language says them after "contact": "técnico y de facturación", "technical and billing". */
export function roleNames(language: Language, contactTypes: string[]): string {
  const names = packOf(language).roles;
  return list(
    language,
    contactTypes.map((type) => names[type] ?? type),
  );
}

const people = (count: number): Variant['people'] => (count > 1 ? 2 : count === 1 ? 1 : 0);

function valuesOf(
  language: Language,
  kind: EmailKind,
  c: EmailContext,
): { values: Values; variant: Variant } {
  const pack = packOf(language);
  const validators = c.validators ?? [];
  const handles = (status?: string) =>
    validators.filter((v) => status === undefined || v.status === status).map((v) => v.handle);
  const others = validators.map((v) => v.handle).filter((handle) => handle !== c.recipient);
  const pendingHandles = handles('pending');
  const pending = pendingHandles.length > 0 ? pendingHandles : handles();
  const values: Values = {
    recipient: c.recipient,
    asker: c.askingAccount,
    from: c.fromAccount,
    to: c.toAccount,
    service: c.serviceName,
    serviceType: serviceTypeName(language, c.serviceType),
    roles: c.roles,
    taskId: String(c.taskId),
    expiresAt: c.expiresAt,
    code: c.code ?? '',
    reason: '',
    refuser: list(language, handles('refused')),
    others: list(language, others),
    validators: list(language, handles()),
    pending: list(language, pending),
    undeliverable: c.undeliverable ?? '',
    validationLink: c.validationLink,
    requestsLink: c.requestsLink,
    count: String(c.move?.count ?? 0),
    applied: String(c.move?.applied ?? 0),
    skipped: String(c.move?.skipped ?? 0),
    refusedCount: String(c.move?.refused ?? 0),
  };
  // Who refused, where the validators say so (a mail of an older task may not know).
  const reasonKey = c.reason === 'refusedByContact' && !values.refuser ? 'refusedBySomeone' : c.reason;
  const reason = reasonKey ? (pack.reasons[reasonKey] ?? reasonKey) : '';
  values.reason = fillSentence(reason, values);
  const isCode = kind === 'code' || kind === 'moveCode';
  const counted = isCode ? others : kind === 'expired' ? pending : handles();
  return {
    values,
    variant: { resent: isCode && c.resent === true, people: people(counted.length) },
  };
}

interface CompiledEmail {
  subject: Layout;
  text: Layout;
  html: Layout;
}

/** Written by npm run generate (scripts/compile-mails.ts): each mail's compiled HTML, by hash of its MJML. */
export const COMPILED_MAILS_FILE = join(__dirname, '..', 'generated', 'mail-html.json');

export const mjmlHash = (mjml: string) => createHash('sha256').update(mjml).digest('base64url');

let prebuilt: Record<string, string> | undefined;
/** The HTML compiled at build time; a template changed since (or no build) is compiled here, once. */
async function compiledHtml(mjml: string): Promise<string> {
  if (!prebuilt) {
    try {
      prebuilt = JSON.parse(readFileSync(COMPILED_MAILS_FILE, 'utf8')) as Record<string, string>;
    } catch {
      prebuilt = {};
    }
  }
  return prebuilt[mjmlHash(mjml)] ?? compileMjml(mjml);
}

const VARIANTS: Variant[] = [false, true].flatMap((resent) =>
  ([0, 1, 2] as const).map((people) => ({ resent, people })),
);

/** The MJML of every template, language and variant (the build compiles each distinct one). */
export function everyMjml(): string[] {
  const documents = new Set<string>();
  for (const language of EMAIL_LANGUAGES)
    for (const kind of EMAIL_KINDS)
      for (const variant of VARIANTS) {
        const pack = packOf(language);
        documents.add(mjmlSource(language, pack, pack.mails[kind as MailKind](variant)));
      }
  return [...documents];
}

const compiled = new Map<string, Promise<CompiledEmail>>();

/** Each template, language and variant is laid out once, then only filled. */
function compiledEmail(language: Language, kind: EmailKind, variant: Variant): Promise<CompiledEmail> {
  const key = `${language}:${kind}:${variant.resent ? 'resent' : 'first'}:${variant.people}`;
  let email = compiled.get(key);
  if (!email) {
    const pack = packOf(language);
    const source = pack.mails[kind as MailKind](variant);
    email = compiledHtml(mjmlSource(language, pack, source)).then((html) => ({
      subject: subjectLayout(source),
      text: textLayout(pack, source),
      html: htmlLayoutOf(html),
    }));
    compiled.set(key, email);
  }
  return email;
}

/** Lays out every template, language and variant ahead of the first mail (the worker's start-up). */
export async function prepareEmails(): Promise<void> {
  for (const language of EMAIL_LANGUAGES)
    for (const kind of EMAIL_KINDS)
      for (const variant of VARIANTS) await compiledEmail(language, kind, variant);
}

export async function renderEmail(
  language: Language,
  kind: EmailKind,
  context: EmailContext,
): Promise<RenderedEmail> {
  const { values, variant } = valuesOf(language, kind, context);
  const email = await compiledEmail(language, kind, variant);
  return {
    subject: fill(email.subject, values),
    text: fill(email.text, values),
    html: fill(email.html, values, escapeHtml),
  };
}
