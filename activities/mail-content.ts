/**
 * What every mail says, once per template and language: the single source from which both the plain text and
 * the HTML of a mail are laid out (activities/mail-layout.ts). `{name}` marks a value of the mail (a handle, the
 * service, the code…), filled in at sending time: escaped in the HTML, as is in the text.
 */
import { MOVE_MAILS, MOVE_REASONS, type MoveMailKind } from './mail-content-moves';

export type Language = 'es' | 'en' | 'fr';

export const SLOTS = [
  'recipient',
  'asker',
  'from',
  'to',
  'service',
  'serviceType',
  'roles',
  'taskId',
  'expiresAt',
  'code',
  'reason',
  'refuser',
  'others',
  'validators',
  'pending',
  'undeliverable',
  'validationLink',
  'requestsLink',
  // Moves (mail-content-moves.ts): how many services, and the outcome counts of the end mail.
  'count',
  'applied',
  'skipped',
  'refusedCount',
] as const;
export type Slot = (typeof SLOTS)[number];
export type LinkSlot = 'validationLink' | 'requestsLink';

/** One block of a mail: each is a paragraph of the text and a component of the HTML. */
export type Block =
  | { paragraph: string }
  /** The label, then the code in large type. */
  | { code: string }
  /** The sentence that introduces the link, a button to it in the HTML, the link itself in the text. */
  | { button: string; intro: string; href: LinkSlot }
  /** A sentence that ends with a link. */
  | { link: string; href: LinkSlot }
  /** Secondary information, in smaller type in the HTML. */
  | { note: string };

export interface MailSource {
  subject: string;
  blocks: Block[];
}

/**
 * What varies a template beyond its values: a resent code replaces the previous one; `people` counts those a
 * sentence is about (the other validators, the validators, those who did not validate in time: none, one,
 * several), so that its words agree.
 */
export interface Variant {
  resent: boolean;
  people: 0 | 1 | 2;
}

/** The sentence for no one, one person or several. */
const agree = (people: Variant['people'], none: string, one: string, several: string) =>
  [none, one, several][people];

type TaskMailKind =
  | 'code'
  | 'informedCreated'
  | 'reminder'
  | 'done'
  | 'doneInformed'
  | 'refused'
  | 'expired'
  | 'aborted'
  | 'needsAttention';
export type MailKind = TaskMailKind | MoveMailKind;

export interface LanguagePack {
  /** The product's name, at the top of each HTML mail. */
  brand: string;
  greeting: string;
  footer: string;
  /** Shown under a button, for mail clients that do not show buttons. */
  linkFallback: string;
  roles: Record<string, string>;
  /** Why a request will not go ahead (refused or cancelled mails): a clause that may use other values. */
  reasons: Record<string, string>;
  mails: Record<MailKind, (variant: Variant) => MailSource>;
}

/** A language's task mails; its move mails come from mail-content-moves.ts. */
type TaskPack = Omit<LanguagePack, 'mails'> & {
  mails: Record<TaskMailKind, (variant: Variant) => MailSource>;
};

const es: TaskPack = {
  brand: 'Gestión de contactos',
  greeting: 'Hola {recipient}:',
  footer: 'Mensaje automático de Gestión de contactos: no responda a este correo.',
  linkFallback: 'Si el botón no funciona, copie este enlace en su navegador:',
  roles: { contactAdmin: 'administrador', contactTech: 'técnico', contactBilling: 'de facturación' },
  reasons: {
    refusedByContact: '{refuser} la ha rechazado',
    refusedBySomeone: 'uno de los contactos la ha rechazado',
    roleNoLongerHeld: 'los contactos del servicio han cambiado entretanto',
    billingInArrears: 'uno de los contactos de facturación no está al corriente de pago',
    unknownAccount: 'el nuevo contacto ya no existe',
    taskAlreadyOpen: 'ya había otra solicitud abierta para este contacto',
    cancelledByAsker: '{asker}, que la había solicitado, la ha cancelado',
    askerNoLongerEntitled: '{asker}, que la había solicitado, ya no puede pedir este cambio',
    cancelledByOperator: 'el equipo de soporte la ha cancelado',
    cancelledByAdmin: 'el contacto administrador del servicio la ha cancelado',
  },
  mails: {
    code: ({ resent, people }) => ({
      subject: resent
        ? '[{service}] Cambio de contacto {roles}: su nuevo código de validación'
        : '[{service}] Cambio de contacto {roles}: su código de validación',
      blocks: [
        ...(resent
          ? [{ paragraph: 'Este correo sustituye al anterior: el código que recibió antes ya no es válido.' }]
          : []),
        {
          paragraph:
            '{asker} ha solicitado cambiar el contacto {roles} del servicio {service} ({serviceType}) de {from} a {to} (solicitud n.º {taskId}).',
        },
        {
          paragraph: agree(
            people,
            'Solo usted debe validarla: el cambio se hará efectivo en cuanto la acepte.',
            '{others} también debe aceptarla, con su propio código; el cambio se hará efectivo en cuanto ambos la hayan aceptado.',
            '{others} también deben aceptarla, cada uno con su propio código; el cambio se hará efectivo en cuanto todos la hayan aceptado.',
          ),
        },
        { code: 'Su código de verificación personal y de un solo uso es:' },
        {
          intro: 'Para aceptar o rechazar la solicitud, abra este enlace (el código ya estará completado):',
          button: 'Aceptar o rechazar la solicitud',
          href: 'validationLink',
        },
        { link: 'También puede hacerlo desde Gestión de contactos > Mis solicitudes:', href: 'requestsLink' },
        { note: 'La solicitud caduca el {expiresAt}. Si no la esperaba, rechácela.' },
      ],
    }),
    informedCreated: ({ people }) => ({
      subject: '[{service}] Solicitud de cambio de contacto {roles}',
      blocks: [
        {
          paragraph:
            '{asker} ha solicitado que {to} sustituya a {from} como contacto {roles} del servicio {service} (solicitud n.º {taskId}).',
        },
        {
          paragraph:
            people > 1
              ? '{validators} deben aceptarla. Le avisaremos cuando el cambio se haga efectivo.'
              : '{validators} debe aceptarla. Le avisaremos cuando el cambio se haga efectivo.',
        },
        { link: 'Puede seguirla en Mis solicitudes:', href: 'requestsLink' },
      ],
    }),
    reminder: () => ({
      subject: '[{service}] Recordatorio: solicitud de cambio de contacto pendiente',
      blocks: [
        {
          paragraph:
            'La solicitud n.º {taskId} (contacto {roles} de {service}, de {from} a {to}) espera su validación y caduca el {expiresAt}.',
        },
        {
          intro: 'Utilice el código que recibió, o pida que se le envíe de nuevo desde Mis solicitudes:',
          button: 'Abrir Mis solicitudes',
          href: 'requestsLink',
        },
      ],
    }),
    done: () => ({
      subject: '[{service}] Cambio de contacto realizado',
      blocks: [
        {
          paragraph:
            'La solicitud n.º {taskId} se ha realizado correctamente: {to} es ahora el contacto {roles} del servicio {service}.',
        },
      ],
    }),
    doneInformed: () => ({
      subject: '[{service}] Ya no es contacto {roles}',
      blocks: [
        {
          paragraph:
            '{to} le ha sustituido como contacto {roles} del servicio {service} (solicitud n.º {taskId}, pedida por {asker}).',
        },
      ],
    }),
    refused: () => ({
      subject: '[{service}] Solicitud de cambio de contacto rechazada',
      blocks: [
        {
          paragraph:
            'La solicitud n.º {taskId} (contacto {roles} de {service}, de {from} a {to}) no se llevará a cabo: {reason}. Los contactos no han cambiado.',
        },
      ],
    }),
    expired: ({ people }) => ({
      subject: '[{service}] Solicitud de cambio de contacto caducada',
      blocks: [
        {
          paragraph:
            people > 1
              ? 'La solicitud n.º {taskId} (contacto {roles} de {service}, de {from} a {to}) ha caducado sin que {pending} la validaran. Los contactos no han cambiado.'
              : 'La solicitud n.º {taskId} (contacto {roles} de {service}, de {from} a {to}) ha caducado sin que {pending} la validara. Los contactos no han cambiado.',
        },
      ],
    }),
    aborted: () => ({
      subject: '[{service}] Solicitud de cambio de contacto cancelada',
      blocks: [
        {
          paragraph:
            'La solicitud n.º {taskId} (contacto {roles} de {service}, de {from} a {to}) no se llevará a cabo: {reason}. Los contactos no han cambiado.',
        },
      ],
    }),
    needsAttention: () => ({
      subject: '[{service}] No hemos podido entregar un correo de la solicitud n.º {taskId}',
      blocks: [
        {
          paragraph:
            'No hemos podido entregar el correo de la solicitud n.º {taskId} (contacto {roles} de {service}, de {from} a {to}) a la dirección de {undeliverable}. La solicitud sigue abierta hasta el {expiresAt}.',
        },
        {
          intro:
            'Pida a {undeliverable} que corrija la dirección de correo de su perfil; después, vuelva a enviar la solicitud desde Mis solicitudes:',
          button: 'Abrir Mis solicitudes',
          href: 'requestsLink',
        },
      ],
    }),
  },
};

const en: TaskPack = {
  brand: 'Contact management',
  greeting: 'Hello {recipient},',
  footer: 'Automatic message from Contact management: please do not reply to this email.',
  linkFallback: 'If the button does not work, copy this link into your browser:',
  roles: { contactAdmin: 'administrator', contactTech: 'technical', contactBilling: 'billing' },
  reasons: {
    refusedByContact: '{refuser} refused it',
    refusedBySomeone: 'one of the contacts refused it',
    roleNoLongerHeld: "the service's contacts changed in the meantime",
    billingInArrears: 'one of the billing contacts is not in good standing',
    unknownAccount: 'the new contact no longer exists',
    taskAlreadyOpen: 'another request was already open for this contact',
    cancelledByAsker: '{asker}, who asked for it, cancelled it',
    askerNoLongerEntitled: '{asker}, who asked for it, may no longer ask for this change',
    cancelledByOperator: 'our support team cancelled it',
    cancelledByAdmin: "the service's admin contact cancelled it",
  },
  mails: {
    code: ({ resent, people }) => ({
      subject: resent
        ? '[{service}] {roles} contact change: your new validation code'
        : '[{service}] {roles} contact change: your validation code',
      blocks: [
        ...(resent
          ? [
              {
                paragraph:
                  'This email replaces the previous one: the code you received before no longer works.',
              },
            ]
          : []),
        {
          paragraph:
            '{asker} asked to change the {roles} contact of {service} ({serviceType}) from {from} to {to} (request #{taskId}).',
        },
        {
          paragraph: agree(
            people,
            'You are the only one who must accept it: the change is made as soon as you do.',
            '{others} must accept it too, with their own code; the change is made as soon as both of you have accepted.',
            '{others} must accept it too, each with their own code; the change is made as soon as everyone has accepted.',
          ),
        },
        { code: 'Your personal, single-use verification code is:' },
        {
          intro: 'To accept or refuse the request, open this link (the code is already filled in):',
          button: 'Accept or refuse the request',
          href: 'validationLink',
        },
        { link: 'You can also do it from Contact management > My requests:', href: 'requestsLink' },
        { note: 'The request expires on {expiresAt}. If you did not expect it, refuse it.' },
      ],
    }),
    informedCreated: () => ({
      subject: '[{service}] {roles} contact change requested',
      blocks: [
        {
          paragraph:
            '{asker} asked for {to} to replace {from} as {roles} contact of {service} (request #{taskId}).',
        },
        {
          paragraph: '{validators} must accept it. We will tell you when the change is done.',
        },
        { link: 'You can follow it in My requests:', href: 'requestsLink' },
      ],
    }),
    reminder: () => ({
      subject: '[{service}] Reminder: a contact change awaits you',
      blocks: [
        {
          paragraph:
            'Request #{taskId} ({roles} contact of {service}, from {from} to {to}) awaits your validation and expires on {expiresAt}.',
        },
        {
          intro: 'Use the code you received, or ask for it to be sent again from My requests:',
          button: 'Open My requests',
          href: 'requestsLink',
        },
      ],
    }),
    done: () => ({
      subject: '[{service}] Contact change done',
      blocks: [{ paragraph: 'Request #{taskId} succeeded: {to} is now the {roles} contact of {service}.' }],
    }),
    doneInformed: () => ({
      subject: '[{service}] You are no longer the {roles} contact',
      blocks: [
        {
          paragraph:
            '{to} replaced you as {roles} contact of {service} (request #{taskId}, asked by {asker}).',
        },
      ],
    }),
    refused: () => ({
      subject: '[{service}] Contact change refused',
      blocks: [
        {
          paragraph:
            'Request #{taskId} ({roles} contact of {service}, from {from} to {to}) will not go ahead: {reason}. The contacts did not change.',
        },
      ],
    }),
    expired: () => ({
      subject: '[{service}] Contact change expired',
      blocks: [
        {
          paragraph:
            'Request #{taskId} ({roles} contact of {service}, from {from} to {to}) expired before {pending} validated it. The contacts did not change.',
        },
      ],
    }),
    aborted: () => ({
      subject: '[{service}] Contact change cancelled',
      blocks: [
        {
          paragraph:
            'Request #{taskId} ({roles} contact of {service}, from {from} to {to}) will not go ahead: {reason}. The contacts did not change.',
        },
      ],
    }),
    needsAttention: () => ({
      subject: '[{service}] We could not deliver an email of request #{taskId}',
      blocks: [
        {
          paragraph:
            "We could not deliver the email of request #{taskId} ({roles} contact of {service}, from {from} to {to}) to {undeliverable}'s address. The request stays open until {expiresAt}.",
        },
        {
          intro:
            'Ask {undeliverable} to correct the email address in their profile, then send the request again from My requests:',
          button: 'Open My requests',
          href: 'requestsLink',
        },
      ],
    }),
  },
};

const fr: TaskPack = {
  brand: 'Gestion des contacts',
  greeting: 'Bonjour {recipient},',
  footer: 'Message automatique de Gestion des contacts : merci de ne pas répondre à ce courriel.',
  linkFallback: 'Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur :',
  roles: { contactAdmin: 'administrateur', contactTech: 'technique', contactBilling: 'de facturation' },
  reasons: {
    refusedByContact: "{refuser} l'a refusée",
    refusedBySomeone: "l'un des contacts l'a refusée",
    roleNoLongerHeld: 'les contacts du service ont changé entre-temps',
    billingInArrears: "l'un des contacts de facturation n'est pas à jour de ses paiements",
    unknownAccount: "le nouveau contact n'existe plus",
    taskAlreadyOpen: 'une autre demande était déjà ouverte pour ce contact',
    cancelledByAsker: "{asker}, qui l'avait demandée, l'a annulée",
    askerNoLongerEntitled: "{asker}, qui l'avait demandée, ne peut plus demander ce changement",
    cancelledByOperator: "notre équipe support l'a annulée",
    cancelledByAdmin: "le contact administrateur du service l'a annulée",
  },
  mails: {
    code: ({ resent, people }) => ({
      subject: resent
        ? '[{service}] Changement de contact {roles} : votre nouveau code de validation'
        : '[{service}] Changement de contact {roles} : votre code de validation',
      blocks: [
        ...(resent
          ? [
              {
                paragraph:
                  "Ce courriel remplace le précédent : le code que vous aviez reçu n'est plus valable.",
              },
            ]
          : []),
        {
          paragraph:
            '{asker} a demandé de changer le contact {roles} du service {service} ({serviceType}) de {from} à {to} (demande n° {taskId}).',
        },
        {
          paragraph: agree(
            people,
            "Personne d'autre n'a à l'accepter : le changement sera fait dès que vous l'aurez acceptée.",
            "{others} doit aussi l'accepter, avec son propre code ; le changement sera fait dès que vous l'aurez acceptée tous les deux.",
            "{others} doivent aussi l'accepter, chacun avec son propre code ; le changement sera fait dès que tous l'auront acceptée.",
          ),
        },
        { code: 'Votre code de vérification personnel et à usage unique est :' },
        {
          intro: 'Pour accepter ou refuser la demande, ouvrez ce lien (le code est déjà rempli) :',
          button: 'Accepter ou refuser la demande',
          href: 'validationLink',
        },
        {
          link: 'Vous pouvez aussi le faire depuis Gestion des contacts > Mes demandes :',
          href: 'requestsLink',
        },
        { note: "La demande expire le {expiresAt}. Si vous ne l'attendiez pas, refusez-la." },
      ],
    }),
    informedCreated: ({ people }) => ({
      subject: '[{service}] Demande de changement de contact {roles}',
      blocks: [
        {
          paragraph:
            '{asker} a demandé que {to} remplace {from} comme contact {roles} du service {service} (demande n° {taskId}).',
        },
        {
          paragraph:
            people > 1
              ? "{validators} doivent l'accepter. Nous vous préviendrons quand le changement sera fait."
              : "{validators} doit l'accepter. Nous vous préviendrons quand le changement sera fait.",
        },
        { link: 'Vous pouvez la suivre dans Mes demandes :', href: 'requestsLink' },
      ],
    }),
    reminder: () => ({
      subject: '[{service}] Rappel : un changement de contact vous attend',
      blocks: [
        {
          paragraph:
            'La demande n° {taskId} (contact {roles} de {service}, de {from} à {to}) attend votre validation et expire le {expiresAt}.',
        },
        {
          intro: 'Utilisez le code reçu, ou demandez un nouvel envoi depuis Mes demandes :',
          button: 'Ouvrir Mes demandes',
          href: 'requestsLink',
        },
      ],
    }),
    done: () => ({
      subject: '[{service}] Changement de contact effectué',
      blocks: [
        {
          paragraph: 'La demande n° {taskId} a abouti : {to} est maintenant le contact {roles} de {service}.',
        },
      ],
    }),
    doneInformed: () => ({
      subject: "[{service}] Vous n'êtes plus le contact {roles}",
      blocks: [
        {
          paragraph:
            '{to} vous a remplacé comme contact {roles} de {service} (demande n° {taskId}, faite par {asker}).',
        },
      ],
    }),
    refused: () => ({
      subject: '[{service}] Changement de contact refusé',
      blocks: [
        {
          paragraph:
            "La demande n° {taskId} (contact {roles} de {service}, de {from} à {to}) n'aboutira pas : {reason}. Les contacts n'ont pas changé.",
        },
      ],
    }),
    expired: ({ people }) => ({
      subject: '[{service}] Changement de contact expiré',
      blocks: [
        {
          paragraph:
            people > 1
              ? "La demande n° {taskId} (contact {roles} de {service}, de {from} à {to}) a expiré avant que {pending} ne l'aient validée. Les contacts n'ont pas changé."
              : "La demande n° {taskId} (contact {roles} de {service}, de {from} à {to}) a expiré avant que {pending} ne l'ait validée. Les contacts n'ont pas changé.",
        },
      ],
    }),
    aborted: () => ({
      subject: '[{service}] Changement de contact annulé',
      blocks: [
        {
          paragraph:
            "La demande n° {taskId} (contact {roles} de {service}, de {from} à {to}) n'aboutira pas : {reason}. Les contacts n'ont pas changé.",
        },
      ],
    }),
    needsAttention: () => ({
      subject: "[{service}] Un courriel de la demande n° {taskId} n'a pas pu être remis",
      blocks: [
        {
          paragraph:
            "Le courriel de la demande n° {taskId} (contact {roles} de {service}, de {from} à {to}) n'a pas pu être remis à l'adresse de {undeliverable}. La demande reste ouverte jusqu'au {expiresAt}.",
        },
        {
          intro:
            "Demandez à {undeliverable} de corriger l'adresse e-mail de son profil, puis renvoyez la demande depuis Mes demandes :",
          button: 'Ouvrir Mes demandes',
          href: 'requestsLink',
        },
      ],
    }),
  },
};

const withMoves = (language: Language, pack: TaskPack): LanguagePack => ({
  ...pack,
  reasons: { ...pack.reasons, ...MOVE_REASONS[language] },
  mails: { ...pack.mails, ...MOVE_MAILS[language] },
});

export const LANGUAGE_PACKS: Record<Language, LanguagePack> = {
  es: withMoves('es', es),
  en: withMoves('en', en),
  fr: withMoves('fr', fr),
};
