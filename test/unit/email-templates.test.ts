import { startMailbox, readCodeEmail } from '../../lib/mailbox';
import { createSmtpMailer } from '../../activities/mailer';
import {
  EMAIL_KINDS,
  EMAIL_LANGUAGES,
  everyMjml,
  prepareEmails,
  renderEmail,
  roleNames,
  type EmailContext,
  type EmailKind,
  type Language,
} from '../../activities/email-templates';
import { sampleEmailContext } from '../../activities/mail-samples';
import { compileMjml } from '../../activities/mail-layout';
import { SERVICE_TYPES } from '../../domain/service-types';
import { hasServiceTypeName } from '../../domain/service-type-names';
import { escapeHtml } from '../../lib/html';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** What a reader sees of an HTML mail: its body's text, without tags, entities decoded, blanks folded. */
function visibleText(html: string): string {
  return html
    .replace(/^[\s\S]*<body[^>]*>/i, '')
    .replace(/<style[\s\S]*?<\/style>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name: string) => ENTITIES[name])
    .replace(/\s+/g, ' ')
    .trim();
}

const fold = (text: string) => text.replace(/\s+/g, ' ').trim();

const every: [Language, EmailKind][] = EMAIL_LANGUAGES.flatMap((language) =>
  EMAIL_KINDS.map((kind) => [language, kind] as [Language, EmailKind]),
);

test('every template and variant compiles to HTML in every language, without MJML warnings', async () => {
  // Straight from MJML, not from the build's compiled file (which may be older than the templates).
  const documents = everyMjml();
  expect(documents.length).toBeGreaterThan(EMAIL_LANGUAGES.length * EMAIL_KINDS.length);
  for (const mjml of documents) await expect(compileMjml(mjml)).resolves.toContain('<!doctype html>');
  await expect(prepareEmails()).resolves.toBeUndefined();
}, 60_000);

test.each(every)(
  '%s %s: the HTML says everything the text says, with the same values',
  async (language, kind) => {
    const context = sampleEmailContext(language, kind);
    const mail = await renderEmail(language, kind, context);
    for (const part of [mail.subject, mail.text, mail.html]) expect(part).not.toMatch(/\{\{?\w+\}?\}/);
    const seen = visibleText(mail.html);
    for (const paragraph of mail.text.split('\n').filter(Boolean)) expect(seen).toContain(fold(paragraph));
    for (const value of [context.serviceName, context.roles, String(context.taskId), context.recipient])
      expect(mail.text).toContain(value);
    expect(mail.html).toContain(`<html lang="${language}"`);
    expect(mail.html).toContain('name="viewport"');
    expect(mail.html).toContain('prefers-color-scheme: dark');
    expect(mail.html).toContain(`<title>${escapeHtml(mail.subject)}</title>`);
    if (kind === 'code') {
      expect(mail.text).toContain(context.code);
      expect(mail.text).toContain(context.validationLink);
      // The validation link is a button (and the raw link under it, for clients without buttons).
      expect(mail.html).toMatch(new RegExp(`<a href="${context.validationLink}"[^>]*>\\s*[^<\\s]`));
    }
  },
);

test('values from outside (handles, service names, links) are escaped in the HTML, as is in the text', async () => {
  const hostile = '<img src=x onerror="alert(1)">&\'';
  const context: EmailContext = {
    ...sampleEmailContext('en', 'code'),
    serviceName: hostile,
    recipient: `${hostile}-ovh`,
    askingAccount: hostile,
    expiresAt: hostile,
    validationLink: `https://contacts.example.com/validate/1#code="><script>x</script>`,
  };
  for (const kind of EMAIL_KINDS) {
    const mail = await renderEmail('en', kind, {
      ...context,
      reason: 'cancelledByAsker',
      undeliverable: hostile,
    });
    expect(mail.html).not.toContain('<img');
    expect(mail.html).not.toContain('<script');
    expect(mail.html).not.toContain('"alert');
    expect(mail.html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;');
    expect(mail.subject).toContain(hostile);
    if (kind !== 'done') expect(mail.text).toContain(hostile);
  }
});

describe('wording', () => {
  const render = (language: Language, kind: EmailKind, change: Partial<EmailContext> = {}) =>
    renderEmail(language, kind, { ...sampleEmailContext(language, kind), ...change });

  test('a resent code says it replaces the previous mail, in each language', async () => {
    const expected = {
      es: 'sustituye al anterior',
      en: 'replaces the previous one',
      fr: 'remplace le précédent',
    };
    for (const language of EMAIL_LANGUAGES) {
      const first = await render(language, 'code');
      const resent = await render(language, 'code', { resent: true });
      expect(first.text).not.toContain(expected[language]);
      expect(resent.text).toContain(expected[language]);
      expect(visibleText(resent.html)).toContain(expected[language]);
      expect(resent.subject).not.toBe(first.subject);
    }
  });

  test('roles read "contacto de facturación", "contact de facturation", "billing contact"', async () => {
    expect(roleNames('es', ['contactBilling'])).toBe('de facturación');
    expect(roleNames('es', ['contactTech', 'contactBilling'])).toBe('técnico y de facturación');
    expect(roleNames('fr', ['contactTech', 'contactBilling'])).toBe('technique et de facturation');
    expect(roleNames('en', ['contactTech', 'contactBilling'])).toBe('technical and billing');
    const roles = roleNames('es', ['contactBilling']);
    expect((await render('es', 'code', { roles })).subject).toContain('Cambio de contacto de facturación');
  });

  test('service types are named in the reader language', async () => {
    const dedicated = { serviceType: 'dedicated/server' };
    expect((await render('es', 'code', dedicated)).text).toContain('(servidor dedicado)');
    expect((await render('fr', 'code', dedicated)).text).toContain('(serveur dédié)');
    expect((await render('en', 'code', dedicated)).text).toContain('(dedicated server)');
    expect((await render('es', 'code')).text).toContain('(dominio)');
    expect((await render('fr', 'code')).text).toContain('(domaine)');
  });

  test('every service family has a name in every language', () => {
    expect(SERVICE_TYPES.filter((family) => !hasServiceTypeName(family.type))).toEqual([]);
  });

  test('the refusal mail says who refused', async () => {
    const refused = {
      es: 'ne44444-ovh la ha rechazado',
      en: 'ne44444-ovh refused it',
      fr: "ne44444-ovh l'a refusée",
    };
    for (const language of EMAIL_LANGUAGES) {
      const mail = await render(language, 'refused');
      expect(mail.text).toContain(refused[language]);
      expect(visibleText(mail.html)).toContain(refused[language]);
    }
    const unknown = await render('en', 'refused', { validators: [] });
    expect(unknown.text).toContain('one of the contacts refused it');
  });

  test('singular when the asker is the only validator, plural when there are two', async () => {
    const alone = { validators: [{ handle: 'xx11111-ovh', status: 'pending' }] };
    expect((await render('es', 'code', alone)).text).toContain('Solo usted debe validarla');
    expect((await render('en', 'code', alone)).text).toContain('You are the only one who must accept it');
    expect((await render('fr', 'code', alone)).text).toContain("Personne d'autre n'a à l'accepter");
    expect((await render('es', 'code')).text).toContain('ne44444-ovh también debe aceptarla');
    expect((await render('fr', 'code')).text).toContain("ne44444-ovh doit aussi l'accepter");

    expect((await render('es', 'informedCreated', alone)).text).toContain('xx11111-ovh debe aceptarla');
    expect((await render('es', 'informedCreated')).text).toContain(
      'xx11111-ovh y ne44444-ovh deben aceptarla',
    );
    expect((await render('fr', 'informedCreated', alone)).text).toContain("xx11111-ovh doit l'accepter");
    expect((await render('fr', 'informedCreated')).text).toContain(
      "xx11111-ovh et ne44444-ovh doivent l'accepter",
    );

    expect((await render('es', 'expired', alone)).text).toContain('sin que xx11111-ovh la validara.');
    expect((await render('es', 'expired')).text).toContain('sin que xx11111-ovh y ne44444-ovh la validaran.');
    expect((await render('fr', 'expired', alone)).text).toContain("avant que xx11111-ovh ne l'ait validée.");
  });

  test('the cancel mail says who cancelled', async () => {
    expect((await render('en', 'aborted')).text).toContain('xx11111-ovh, who asked for it, cancelled it');
    const byOperator = await render('es', 'aborted', { reason: 'cancelledByOperator' });
    expect(byOperator.text).toContain('el equipo de soporte la ha cancelado');
  });
});

test('the mailbox keeps the text part of a mail sent with its HTML, and the code reads from it', async () => {
  const mailbox = await startMailbox();
  const mailer = createSmtpMailer(`smtp://127.0.0.1:${mailbox.port}`, 'Contacts <no-reply@contacts.test>');
  try {
    const context = sampleEmailContext('es', 'code');
    const mail = await renderEmail('es', 'code', context);
    await mailer.send({ to: 'ana.admin@example.test', ...mail, messageId: '<html-and-text@contacts>' });
    const stored = await mailbox.waitFor((m) => m.messageId === '<html-and-text@contacts>');
    expect(stored.text.trim()).toBe(mail.text.trim());
    expect(readCodeEmail(stored)).toEqual({ code: context.code, link: context.validationLink });
  } finally {
    mailer.close();
    await mailbox.close();
  }
});
