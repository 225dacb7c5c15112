import type { EmailTemplate } from '../workflows/contact-change.activities';

export type Language = 'es' | 'en' | 'fr';
export type EmailKind = EmailTemplate | 'code';

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
  validationLink: string;
  requestsLink: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html?: string;
}

const ROLE_NAMES: Record<Language, Record<string, string>> = {
  es: { contactAdmin: 'administrador', contactTech: 'técnico', contactBilling: 'facturación' },
  en: { contactAdmin: 'administrator', contactTech: 'technical', contactBilling: 'billing' },
  fr: { contactAdmin: 'administrateur', contactTech: 'technique', contactBilling: 'facturation' },
};

export function roleNames(language: Language, contactTypes: string[]): string {
  return contactTypes.map((type) => ROLE_NAMES[language][type] ?? type).join(', ');
}

const REASONS: Record<Language, Record<string, string>> = {
  es: {
    refusedByContact: 'uno de los contactos la ha rechazado',
    roleNoLongerHeld: 'los contactos del servicio han cambiado entretanto',
    billingInArrears: 'uno de los contactos de facturación no está al corriente de pago',
    unknownAccount: 'el nuevo contacto ya no existe',
    taskAlreadyOpen: 'ya había otra solicitud abierta para este contacto',
  },
  en: {
    refusedByContact: 'one of the contacts refused it',
    roleNoLongerHeld: "the service's contacts changed in the meantime",
    billingInArrears: 'one of the billing contacts is not in good standing',
    unknownAccount: 'the new contact no longer exists',
    taskAlreadyOpen: 'another request was already open for this contact',
  },
  fr: {
    refusedByContact: "l'un des contacts l'a refusée",
    roleNoLongerHeld: 'les contacts du service ont changé entre-temps',
    billingInArrears: "l'un des contacts de facturation n'est pas à jour de ses paiements",
    unknownAccount: "le nouveau contact n'existe plus",
    taskAlreadyOpen: 'une autre demande était déjà ouverte pour ce contact',
  },
};

type Templates = Record<EmailKind, (c: EmailContext) => RenderedEmail>;

const es: Templates = {
  code: (c) => ({
    subject: `[${c.serviceName}] Cambio de contacto ${c.roles}: su código de validación`,
    text: `Hola ${c.recipient}:

${c.askingAccount} ha solicitado cambiar el contacto ${c.roles} del servicio ${c.serviceName} (${c.serviceType}) de ${c.fromAccount} a ${c.toAccount} (solicitud n.º ${c.taskId}).

Su código de verificación personal y de un solo uso es: ${c.code}

Para aceptar o rechazar la solicitud, abra este enlace (el código ya estará completado):
${c.validationLink}

También puede hacerlo desde Gestión de contactos > Mis solicitudes: ${c.requestsLink}
La solicitud caduca el ${c.expiresAt}. Si no la esperaba, rechácela.`,
  }),
  informedCreated: (c) => ({
    subject: `[${c.serviceName}] Solicitud de cambio de contacto ${c.roles}`,
    text: `Hola ${c.recipient}:\n\n${c.askingAccount} ha solicitado que ${c.toAccount} sustituya a ${c.fromAccount} como contacto ${c.roles} del servicio ${c.serviceName} (solicitud n.º ${c.taskId}). Le avisaremos cuando el cambio se haga efectivo.\n\n${c.requestsLink}`,
  }),
  reminder: (c) => ({
    subject: `[${c.serviceName}] Recordatorio: solicitud de cambio de contacto pendiente`,
    text: `Hola ${c.recipient}:\n\nLa solicitud n.º ${c.taskId} (contacto ${c.roles} de ${c.serviceName}, de ${c.fromAccount} a ${c.toAccount}) espera su validación y caduca el ${c.expiresAt}.\nUtilice el código que recibió, o pida que se le envíe de nuevo desde Mis solicitudes: ${c.requestsLink}`,
  }),
  done: (c) => ({
    subject: `[${c.serviceName}] Cambio de contacto realizado`,
    text: `Hola ${c.recipient}:\n\nLa solicitud n.º ${c.taskId} se ha realizado correctamente: ${c.toAccount} es ahora el contacto ${c.roles} del servicio ${c.serviceName}.`,
  }),
  doneInformed: (c) => ({
    subject: `[${c.serviceName}] Ya no es contacto ${c.roles}`,
    text: `Hola ${c.recipient}:\n\n${c.toAccount} le ha sustituido como contacto ${c.roles} del servicio ${c.serviceName} (solicitud n.º ${c.taskId}, pedida por ${c.askingAccount}).`,
  }),
  refused: (c) => ({
    subject: `[${c.serviceName}] Solicitud de cambio de contacto rechazada`,
    text: `Hola ${c.recipient}:\n\nLa solicitud n.º ${c.taskId} (contacto ${c.roles} de ${c.serviceName}, de ${c.fromAccount} a ${c.toAccount}) ha sido rechazada: ${c.reason}. Los contactos no han cambiado.`,
  }),
  expired: (c) => ({
    subject: `[${c.serviceName}] Solicitud de cambio de contacto caducada`,
    text: `Hola ${c.recipient}:\n\nLa solicitud n.º ${c.taskId} (contacto ${c.roles} de ${c.serviceName}, de ${c.fromAccount} a ${c.toAccount}) ha caducado sin ser validada por todos. Los contactos no han cambiado.`,
  }),
  aborted: (c) => ({
    subject: `[${c.serviceName}] Solicitud de cambio de contacto cancelada`,
    text: `Hola ${c.recipient}:\n\nLa solicitud n.º ${c.taskId} (contacto ${c.roles} de ${c.serviceName}, de ${c.fromAccount} a ${c.toAccount}) ha sido cancelada. Los contactos no han cambiado.`,
  }),
};

const en: Templates = {
  code: (c) => ({
    subject: `[${c.serviceName}] ${c.roles} contact change: your validation code`,
    text: `Hello ${c.recipient},

${c.askingAccount} asked to change the ${c.roles} contact of ${c.serviceName} (${c.serviceType}) from ${c.fromAccount} to ${c.toAccount} (request #${c.taskId}).

Your personal, single-use verification code is: ${c.code}

To accept or refuse the request, open this link (the code is already filled in):
${c.validationLink}

You can also do it from Contact management > My requests: ${c.requestsLink}
The request expires on ${c.expiresAt}. If you did not expect it, refuse it.`,
  }),
  informedCreated: (c) => ({
    subject: `[${c.serviceName}] ${c.roles} contact change requested`,
    text: `Hello ${c.recipient},\n\n${c.askingAccount} asked for ${c.toAccount} to replace ${c.fromAccount} as ${c.roles} contact of ${c.serviceName} (request #${c.taskId}). We will tell you when the change is done.\n\n${c.requestsLink}`,
  }),
  reminder: (c) => ({
    subject: `[${c.serviceName}] Reminder: a contact change awaits you`,
    text: `Hello ${c.recipient},\n\nRequest #${c.taskId} (${c.roles} contact of ${c.serviceName}, from ${c.fromAccount} to ${c.toAccount}) awaits your validation and expires on ${c.expiresAt}.\nUse the code you received, or ask for it to be sent again from My requests: ${c.requestsLink}`,
  }),
  done: (c) => ({
    subject: `[${c.serviceName}] Contact change done`,
    text: `Hello ${c.recipient},\n\nRequest #${c.taskId} succeeded: ${c.toAccount} is now the ${c.roles} contact of ${c.serviceName}.`,
  }),
  doneInformed: (c) => ({
    subject: `[${c.serviceName}] You are no longer the ${c.roles} contact`,
    text: `Hello ${c.recipient},\n\n${c.toAccount} replaced you as ${c.roles} contact of ${c.serviceName} (request #${c.taskId}, asked by ${c.askingAccount}).`,
  }),
  refused: (c) => ({
    subject: `[${c.serviceName}] Contact change refused`,
    text: `Hello ${c.recipient},\n\nRequest #${c.taskId} (${c.roles} contact of ${c.serviceName}, from ${c.fromAccount} to ${c.toAccount}) was refused: ${c.reason}. The contacts did not change.`,
  }),
  expired: (c) => ({
    subject: `[${c.serviceName}] Contact change expired`,
    text: `Hello ${c.recipient},\n\nRequest #${c.taskId} (${c.roles} contact of ${c.serviceName}, from ${c.fromAccount} to ${c.toAccount}) expired before everyone validated it. The contacts did not change.`,
  }),
  aborted: (c) => ({
    subject: `[${c.serviceName}] Contact change cancelled`,
    text: `Hello ${c.recipient},\n\nRequest #${c.taskId} (${c.roles} contact of ${c.serviceName}, from ${c.fromAccount} to ${c.toAccount}) was cancelled. The contacts did not change.`,
  }),
};

const fr: Templates = {
  code: (c) => ({
    subject: `[${c.serviceName}] Changement de contact ${c.roles} : votre code de validation`,
    text: `Bonjour ${c.recipient},

${c.askingAccount} a demandé de changer le contact ${c.roles} du service ${c.serviceName} (${c.serviceType}) de ${c.fromAccount} à ${c.toAccount} (demande n° ${c.taskId}).

Votre code de vérification personnel et à usage unique est : ${c.code}

Pour accepter ou refuser la demande, ouvrez ce lien (le code est déjà rempli) :
${c.validationLink}

Vous pouvez aussi le faire depuis Gestion des contacts > Mes demandes : ${c.requestsLink}
La demande expire le ${c.expiresAt}. Si vous ne l'attendiez pas, refusez-la.`,
  }),
  informedCreated: (c) => ({
    subject: `[${c.serviceName}] Demande de changement de contact ${c.roles}`,
    text: `Bonjour ${c.recipient},\n\n${c.askingAccount} a demandé que ${c.toAccount} remplace ${c.fromAccount} comme contact ${c.roles} du service ${c.serviceName} (demande n° ${c.taskId}). Nous vous préviendrons quand le changement sera fait.\n\n${c.requestsLink}`,
  }),
  reminder: (c) => ({
    subject: `[${c.serviceName}] Rappel : un changement de contact vous attend`,
    text: `Bonjour ${c.recipient},\n\nLa demande n° ${c.taskId} (contact ${c.roles} de ${c.serviceName}, de ${c.fromAccount} à ${c.toAccount}) attend votre validation et expire le ${c.expiresAt}.\nUtilisez le code reçu, ou demandez un nouvel envoi depuis Mes demandes : ${c.requestsLink}`,
  }),
  done: (c) => ({
    subject: `[${c.serviceName}] Changement de contact effectué`,
    text: `Bonjour ${c.recipient},\n\nLa demande n° ${c.taskId} a abouti : ${c.toAccount} est maintenant le contact ${c.roles} de ${c.serviceName}.`,
  }),
  doneInformed: (c) => ({
    subject: `[${c.serviceName}] Vous n'êtes plus le contact ${c.roles}`,
    text: `Bonjour ${c.recipient},\n\n${c.toAccount} vous a remplacé comme contact ${c.roles} de ${c.serviceName} (demande n° ${c.taskId}, faite par ${c.askingAccount}).`,
  }),
  refused: (c) => ({
    subject: `[${c.serviceName}] Changement de contact refusé`,
    text: `Bonjour ${c.recipient},\n\nLa demande n° ${c.taskId} (contact ${c.roles} de ${c.serviceName}, de ${c.fromAccount} à ${c.toAccount}) a été refusée : ${c.reason}. Les contacts n'ont pas changé.`,
  }),
  expired: (c) => ({
    subject: `[${c.serviceName}] Changement de contact expiré`,
    text: `Bonjour ${c.recipient},\n\nLa demande n° ${c.taskId} (contact ${c.roles} de ${c.serviceName}, de ${c.fromAccount} à ${c.toAccount}) a expiré avant d'être validée par tous. Les contacts n'ont pas changé.`,
  }),
  aborted: (c) => ({
    subject: `[${c.serviceName}] Changement de contact annulé`,
    text: `Bonjour ${c.recipient},\n\nLa demande n° ${c.taskId} (contact ${c.roles} de ${c.serviceName}, de ${c.fromAccount} à ${c.toAccount}) a été annulée. Les contacts n'ont pas changé.`,
  }),
};

const TEMPLATES: Record<Language, Templates> = { es, en, fr };

export async function renderEmail(
  language: Language,
  kind: EmailKind,
  context: EmailContext,
): Promise<RenderedEmail> {
  const reason = context.reason ? (REASONS[language][context.reason] ?? context.reason) : undefined;
  return TEMPLATES[language][kind]({ ...context, reason });
}
