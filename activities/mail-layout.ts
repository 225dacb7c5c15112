import { escapeHtml } from '../lib/html';
import {
  SLOTS,
  type Block,
  type Language,
  type LanguagePack,
  type MailSource,
  type Slot,
} from './mail-content';

/**
 * A mail laid out once, its values still to fill: the literal parts and, between them, the names of the values.
 * Filling is a join, so a mail costs microseconds on the hot path however heavy its layout was to compute.
 */
export interface Layout {
  parts: string[];
  slots: Slot[];
}

export type Values = Record<Slot, string>;

const SLOT_MARK = /\{(\w+)\}/g;
/** In the compiled HTML a value is marked with double braces, which neither CSS nor MJML's output contain. */
const HTML_MARK = /\{\{(\w+)\}\}/g;

function isSlot(name: string): name is Slot {
  return (SLOTS as readonly string[]).includes(name);
}

function layoutOf(template: string, mark: RegExp): Layout {
  const pieces = template.split(mark);
  const parts: string[] = [];
  const slots: Slot[] = [];
  pieces.forEach((piece, i) => {
    if (i % 2 === 0) parts.push(piece);
    else if (isSlot(piece)) slots.push(piece);
    else throw new Error(`unknown value {${piece}} in a mail template`);
  });
  return { parts, slots };
}

export function fill(layout: Layout, values: Values, escape: (text: string) => string = String): string {
  let out = layout.parts[0];
  for (let i = 0; i < layout.slots.length; i++) out += escape(values[layout.slots[i]]) + layout.parts[i + 1];
  return out;
}

/** Fills `{name}` in a sentence from the values (used for the reasons, which are values themselves). */
export function fillSentence(sentence: string, values: Partial<Values>): string {
  return sentence.replace(SLOT_MARK, (_, name: string) => values[name as Slot] ?? '');
}

export function subjectLayout(source: MailSource): Layout {
  return layoutOf(source.subject, SLOT_MARK);
}

function blockText(block: Block): string {
  if ('paragraph' in block) return block.paragraph;
  if ('code' in block) return `${block.code} {code}`;
  if ('button' in block) return `${block.intro}\n{${block.href}}`;
  if ('link' in block) return `${block.link} {${block.href}}`;
  return block.note;
}

export function textLayout(pack: LanguagePack, source: MailSource): Layout {
  const text = [pack.greeting, ...source.blocks.map(blockText), pack.footer].join('\n\n');
  return layoutOf(text, SLOT_MARK);
}

// Colours: the provider's blue on white, contrast above 4.5:1 (WCAG AA) in light and dark mode.
const INK = '#1b2733';
const MUTED = '#4d5b69';
const BLUE = '#0050d7';

/** Fixed text made safe for HTML, its `{name}` marks kept as `{{name}}` for the values. */
const htmlText = (text: string) => escapeHtml(text).replace(SLOT_MARK, '{{$1}}');

function blockMjml(pack: LanguagePack, block: Block): string {
  if ('paragraph' in block) return `<mj-text>${htmlText(block.paragraph)}</mj-text>`;
  if ('note' in block)
    return `<mj-text css-class="muted" color="${MUTED}" font-size="14px">${htmlText(block.note)}</mj-text>`;
  if ('code' in block)
    return `<mj-text padding-bottom="8px">${htmlText(block.code)}</mj-text>
      <mj-text css-class="code" align="center" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="26px"
        font-weight="700" letter-spacing="3px" container-background-color="#eef3fb" padding="14px 8px">{{code}}</mj-text>
      <mj-spacer height="16px" />`;
  if ('link' in block)
    return `<mj-text>${htmlText(block.link)} <a href="{{${block.href}}}" style="color:${BLUE}">{{${block.href}}}</a></mj-text>`;
  return `<mj-text>${htmlText(block.intro)}</mj-text>
    <mj-button href="{{${block.href}}}" css-class="button" background-color="${BLUE}" color="#ffffff" font-size="16px"
      font-weight="700" border-radius="6px" inner-padding="14px 28px" padding="4px 0 12px">${htmlText(block.button)}</mj-button>
    <mj-text css-class="muted" color="${MUTED}" font-size="13px" padding-bottom="20px">${htmlText(pack.linkFallback)}
      <a href="{{${block.href}}}" style="color:${BLUE};word-break:break-all">{{${block.href}}}</a></mj-text>`;
}

// Mail clients that follow the reader's dark mode read this; inline styles need !important to be overridden.
const DARK_MODE = `
  :root { color-scheme: light dark; supported-color-schemes: light dark; }
  @media (prefers-color-scheme: dark) {
    body, .page, .page > div { background-color: #12161b !important; }
    .card, .card > table, .card td { background-color: #1e252d !important; }
    .card div, .brand div { color: #e8ecf0 !important; }
    .card .muted div, .footer div { color: #aeb8c2 !important; }
    .card a { color: #8ab4ff !important; }
    .code, .code td, td.code { background-color: #0f2a4d !important; }
    .code div { color: #ffffff !important; }
    .button a, .button td, .button p { background-color: #2563eb !important; color: #ffffff !important; }
  }`;

export function mjmlSource(language: Language, pack: LanguagePack, source: MailSource): string {
  return `<mjml lang="${language}">
  <mj-head>
    <mj-title>${htmlText(source.subject)}</mj-title>
    <mj-attributes>
      <mj-all font-family="-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" />
      <mj-text font-size="16px" line-height="1.5" color="${INK}" padding="0 0 16px 0" />
      <mj-section padding="0" />
      <mj-column padding="0" />
    </mj-attributes>
    <mj-raw><meta name="color-scheme" content="light dark" /><meta name="supported-color-schemes" content="light dark" /></mj-raw>
    <mj-style>${DARK_MODE}</mj-style>
  </mj-head>
  <mj-body background-color="#f2f4f7" width="600px" css-class="page">
    <mj-section padding="24px 16px 12px">
      <mj-column>
        <mj-text css-class="brand" font-size="18px" font-weight="700" color="${BLUE}" padding="0">${htmlText(pack.brand)}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section css-class="card" background-color="#ffffff" border-radius="8px" padding="24px 20px 8px">
      <mj-column>
        <mj-text>${htmlText(pack.greeting)}</mj-text>
        ${source.blocks.map((block) => blockMjml(pack, block)).join('\n        ')}
      </mj-column>
    </mj-section>
    <mj-section padding="12px 16px 24px">
      <mj-column>
        <mj-text css-class="footer" color="${MUTED}" font-size="12px">${htmlText(pack.footer)}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;
}

/** Compiles MJML to responsive HTML: tens of milliseconds, so done at build time (npm run generate) or once. */
export async function compileMjml(mjml: string): Promise<string> {
  // Loaded only when something is left to compile: a worker started from a fresh build never needs it.
  const { default: mjml2html } = await import('mjml');
  const result = await mjml2html(mjml, { validationLevel: 'strict' });
  if (result.errors.length > 0)
    throw new Error(
      `mail template does not compile: ${result.errors.map((e) => e.formattedMessage).join('; ')}`,
    );
  return result.html;
}

export const htmlLayoutOf = (html: string): Layout => layoutOf(html, HTML_MARK);
