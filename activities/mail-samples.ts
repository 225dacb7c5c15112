import type { EmailContext, EmailKind, Language } from './email-templates';
import { roleNames } from './email-templates';

/**
 * A realistic mail of each template, as the demo's story sends them (example-shop.com: the Spanish admin asks
 * that the new contact ne44444-ovh replace the French tech): for the screenshots, the benchmark and the tests.
 */
export function sampleEmailContext(language: Language, kind: EmailKind): EmailContext {
  const expires: Record<Language, string> = {
    es: '5 de diciembre de 2026, 10:00 UTC',
    en: '5 December 2026 at 10:00 UTC',
    fr: '5 décembre 2026 à 10:00 UTC',
  };
  const base = 'https://contacts.example.com';
  const validators = [
    { handle: 'xx11111-ovh', status: kind === 'refused' ? 'accepted' : 'pending' },
    { handle: 'ne44444-ovh', status: kind === 'refused' ? 'refused' : 'pending' },
  ];
  const code = kind === 'code' || kind === 'moveCode' ? 'K7P2-9XQM' : undefined;
  const isMove = kind.startsWith('move');
  return {
    taskId: 1042,
    serviceName: isMove ? 'example-shop.com, example-blog.net and 48 more' : 'example-shop.com',
    serviceType: 'domain',
    roles: roleNames(language, ['contactTech']),
    fromAccount: 'te22222-ovh',
    toAccount: 'ne44444-ovh',
    askingAccount: 'xx11111-ovh',
    validators,
    recipient: ['informedCreated', 'doneInformed', 'moveInformed'].includes(kind)
      ? 'te22222-ovh'
      : 'xx11111-ovh',
    reason: {
      refused: 'refusedByContact',
      expired: 'notValidatedInTime',
      aborted: 'cancelledByAsker',
      moveNotDone: 'notValidatedInTime',
    }[kind as string],
    expiresAt: expires[language],
    code,
    undeliverable: kind === 'needsAttention' || kind === 'moveNeedsAttention' ? 'ne44444-ovh' : undefined,
    validationLink: `${base}/${isMove ? 'validate-move' : 'validate'}/1042${code ? `#code=${code}` : ''}`,
    requestsLink: isMove ? `${base}/moves/1042` : `${base}/requests`,
    ...(isMove ? { move: { count: 50, applied: 47, skipped: 2, refused: 1 } } : {}),
  };
}
