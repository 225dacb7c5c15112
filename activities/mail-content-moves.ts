/**
 * What the mails of a move say (docs/product.md, "Moving many services at once"), in the same form as the task
 * mails of mail-content.ts: one mail per validator for the whole move. `{service}` holds the first services and a
 * count of the others, `{count}` the number of services, `{taskId}` the move's number.
 */
import type { Language, MailSource, Variant } from './mail-content';

export type MoveMailKind =
  'moveCode' | 'moveInformed' | 'moveReminder' | 'moveDone' | 'moveNotDone' | 'moveNeedsAttention';

const agree = (people: Variant['people'], none: string, one: string, several: string) =>
  [none, one, several][people];

type MoveMails = Record<MoveMailKind, (variant: Variant) => MailSource>;

/** Why a move will not go ahead, beside the task reasons each language already has. */
export const MOVE_REASONS: Record<Language, Record<string, string>> = {
  es: {
    notValidatedInTime: 'no se validó a tiempo',
    nothingToMove: 'otra solicitud ocupaba ya todos los servicios',
  },
  en: {
    notValidatedInTime: 'it was not validated in time',
    nothingToMove: 'other requests already held every service',
  },
  fr: {
    notValidatedInTime: "elle n'a pas été validée à temps",
    nothingToMove: "d'autres demandes occupaient déjà tous les services",
  },
};

export const MOVE_MAILS: Record<Language, MoveMails> = {
  es: {
    moveCode: ({ resent, people }) => ({
      subject: resent
        ? '[{service}] Traslado del contacto {roles} de {count} servicios: su nuevo código'
        : '[{service}] Traslado del contacto {roles} de {count} servicios: su código de validación',
      blocks: [
        ...(resent
          ? [{ paragraph: 'Este correo sustituye al anterior: el código que recibió antes ya no es válido.' }]
          : []),
        {
          paragraph:
            '{asker} ha solicitado trasladar el contacto {roles} de {count} servicios de {from} a {to} (traslado n.º {taskId}): {service}.',
        },
        {
          paragraph: agree(
            people,
            'Solo usted debe validarlo.',
            '{others} también debe aceptarlo, con su propio código.',
            '{others} también deben aceptarlo, cada uno con su propio código.',
          ),
        },
        {
          paragraph:
            'Un solo código vale para todo el traslado. En la página de validación puede dejar fuera algunos servicios antes de aceptar; rechazar rechaza todo el traslado.',
        },
        { code: 'Su código de verificación personal y de un solo uso es:' },
        {
          intro:
            'Para revisar los servicios y aceptar o rechazar, abra este enlace (el código ya estará completado):',
          button: 'Revisar el traslado',
          href: 'validationLink',
        },
        { link: 'Puede seguir el traslado aquí:', href: 'requestsLink' },
        { note: 'El traslado caduca el {expiresAt}. Si no lo esperaba, rechácelo.' },
      ],
    }),
    moveInformed: ({ people }) => ({
      subject: '[{service}] Solicitud de traslado del contacto {roles} de {count} servicios',
      blocks: [
        {
          paragraph:
            '{asker} ha solicitado que {to} sustituya a {from} como contacto {roles} de {count} servicios (traslado n.º {taskId}): {service}.',
        },
        {
          paragraph:
            people > 1
              ? '{validators} deben aceptarlo. Le avisaremos cuando termine.'
              : '{validators} debe aceptarlo. Le avisaremos cuando termine.',
        },
        { link: 'Puede seguirlo aquí:', href: 'requestsLink' },
      ],
    }),
    moveReminder: () => ({
      subject: '[{service}] Recordatorio: un traslado de contactos espera su validación',
      blocks: [
        {
          paragraph:
            'El traslado n.º {taskId} (contacto {roles} de {count} servicios, de {from} a {to}) espera su validación y caduca el {expiresAt}. Servicios: {service}.',
        },
        {
          intro:
            'Utilice el código que recibió, o pida que se le envíe de nuevo desde la página del traslado:',
          button: 'Revisar el traslado',
          href: 'validationLink',
        },
      ],
    }),
    moveDone: () => ({
      subject: '[{service}] Traslado de contactos n.º {taskId} terminado',
      blocks: [
        {
          paragraph:
            'El traslado n.º {taskId} (contacto {roles}, de {from} a {to}) ha terminado: {applied} servicios cambiados, {skipped} omitidos y {refusedCount} dejados fuera o rechazados. Servicios: {service}.',
        },
        { link: 'El resultado de cada servicio, con su motivo:', href: 'requestsLink' },
      ],
    }),
    moveNotDone: () => ({
      subject: '[{service}] El traslado de contactos n.º {taskId} no se llevará a cabo',
      blocks: [
        {
          paragraph:
            'El traslado n.º {taskId} (contacto {roles} de {count} servicios, de {from} a {to}) no se llevará a cabo: {reason}. Los contactos no han cambiado. Servicios: {service}.',
        },
        { link: 'Detalles:', href: 'requestsLink' },
      ],
    }),
    moveNeedsAttention: () => ({
      subject: '[{service}] No hemos podido entregar un correo del traslado n.º {taskId}',
      blocks: [
        {
          paragraph:
            'No hemos podido entregar el correo del traslado n.º {taskId} (contacto {roles} de {count} servicios, de {from} a {to}) a la dirección de {undeliverable}. El traslado sigue abierto hasta el {expiresAt}. Servicios: {service}.',
        },
        {
          intro:
            'Pida a {undeliverable} que corrija la dirección de correo de su perfil; después, vuelva a enviar el correo desde la página del traslado:',
          button: 'Abrir el traslado',
          href: 'requestsLink',
        },
      ],
    }),
  },
  en: {
    moveCode: ({ resent, people }) => ({
      subject: resent
        ? '[{service}] Move of the {roles} contact of {count} services: your new code'
        : '[{service}] Move of the {roles} contact of {count} services: your validation code',
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
            '{asker} asked to move the {roles} contact of {count} services from {from} to {to} (move #{taskId}): {service}.',
        },
        {
          paragraph: agree(
            people,
            'You are the only one who must accept it.',
            '{others} must accept it too, with their own code.',
            '{others} must accept it too, each with their own code.',
          ),
        },
        {
          paragraph:
            'One code covers the whole move. On the validation page you may leave some services out before accepting; refusing refuses the whole move.',
        },
        { code: 'Your personal, single-use verification code is:' },
        {
          intro:
            'To review the services and accept or refuse, open this link (the code is already filled in):',
          button: 'Review the move',
          href: 'validationLink',
        },
        { link: 'You can follow the move here:', href: 'requestsLink' },
        { note: 'The move expires on {expiresAt}. If you did not expect it, refuse it.' },
      ],
    }),
    moveInformed: () => ({
      subject: '[{service}] Move of the {roles} contact of {count} services requested',
      blocks: [
        {
          paragraph:
            '{asker} asked for {to} to replace {from} as {roles} contact of {count} services (move #{taskId}): {service}.',
        },
        { paragraph: '{validators} must accept it. We will tell you when it is over.' },
        { link: 'You can follow it here:', href: 'requestsLink' },
      ],
    }),
    moveReminder: () => ({
      subject: '[{service}] Reminder: a contact move awaits you',
      blocks: [
        {
          paragraph:
            'Move #{taskId} ({roles} contact of {count} services, from {from} to {to}) awaits your validation and expires on {expiresAt}. Services: {service}.',
        },
        {
          intro: 'Use the code you received, or ask for it to be sent again from the move page:',
          button: 'Review the move',
          href: 'validationLink',
        },
      ],
    }),
    moveDone: () => ({
      subject: '[{service}] Contact move #{taskId} done',
      blocks: [
        {
          paragraph:
            'Move #{taskId} ({roles} contact, from {from} to {to}) is over: {applied} services changed, {skipped} skipped and {refusedCount} left out or refused. Services: {service}.',
        },
        { link: 'The outcome of each service, with its reason:', href: 'requestsLink' },
      ],
    }),
    moveNotDone: () => ({
      subject: '[{service}] Contact move #{taskId} will not go ahead',
      blocks: [
        {
          paragraph:
            'Move #{taskId} ({roles} contact of {count} services, from {from} to {to}) will not go ahead: {reason}. The contacts did not change. Services: {service}.',
        },
        { link: 'Details:', href: 'requestsLink' },
      ],
    }),
    moveNeedsAttention: () => ({
      subject: '[{service}] We could not deliver an email of move #{taskId}',
      blocks: [
        {
          paragraph:
            "We could not deliver the email of move #{taskId} ({roles} contact of {count} services, from {from} to {to}) to {undeliverable}'s address. The move stays open until {expiresAt}. Services: {service}.",
        },
        {
          intro:
            'Ask {undeliverable} to correct the email address in their profile, then send the email again from the move page:',
          button: 'Open the move',
          href: 'requestsLink',
        },
      ],
    }),
  },
  fr: {
    moveCode: ({ resent, people }) => ({
      subject: resent
        ? '[{service}] Transfert du contact {roles} de {count} services : votre nouveau code'
        : '[{service}] Transfert du contact {roles} de {count} services : votre code de validation',
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
            '{asker} a demandé de transférer le contact {roles} de {count} services de {from} à {to} (transfert n° {taskId}) : {service}.',
        },
        {
          paragraph: agree(
            people,
            "Personne d'autre n'a à l'accepter.",
            "{others} doit aussi l'accepter, avec son propre code.",
            "{others} doivent aussi l'accepter, chacun avec son propre code.",
          ),
        },
        {
          paragraph:
            "Un seul code vaut pour tout le transfert. Sur la page de validation, vous pouvez écarter des services avant d'accepter ; refuser refuse tout le transfert.",
        },
        { code: 'Votre code de vérification personnel et à usage unique est :' },
        {
          intro:
            'Pour revoir les services et accepter ou refuser, ouvrez ce lien (le code est déjà rempli) :',
          button: 'Revoir le transfert',
          href: 'validationLink',
        },
        { link: 'Vous pouvez suivre le transfert ici :', href: 'requestsLink' },
        { note: "Le transfert expire le {expiresAt}. Si vous ne l'attendiez pas, refusez-le." },
      ],
    }),
    moveInformed: ({ people }) => ({
      subject: '[{service}] Demande de transfert du contact {roles} de {count} services',
      blocks: [
        {
          paragraph:
            '{asker} a demandé que {to} remplace {from} comme contact {roles} de {count} services (transfert n° {taskId}) : {service}.',
        },
        {
          paragraph:
            people > 1
              ? "{validators} doivent l'accepter. Nous vous préviendrons quand il sera terminé."
              : "{validators} doit l'accepter. Nous vous préviendrons quand il sera terminé.",
        },
        { link: 'Vous pouvez le suivre ici :', href: 'requestsLink' },
      ],
    }),
    moveReminder: () => ({
      subject: '[{service}] Rappel : un transfert de contacts vous attend',
      blocks: [
        {
          paragraph:
            'Le transfert n° {taskId} (contact {roles} de {count} services, de {from} à {to}) attend votre validation et expire le {expiresAt}. Services : {service}.',
        },
        {
          intro: 'Utilisez le code reçu, ou demandez un nouvel envoi depuis la page du transfert :',
          button: 'Revoir le transfert',
          href: 'validationLink',
        },
      ],
    }),
    moveDone: () => ({
      subject: '[{service}] Transfert de contacts n° {taskId} terminé',
      blocks: [
        {
          paragraph:
            'Le transfert n° {taskId} (contact {roles}, de {from} à {to}) est terminé : {applied} services changés, {skipped} ignorés et {refusedCount} écartés ou refusés. Services : {service}.',
        },
        { link: 'Le résultat de chaque service, avec son motif :', href: 'requestsLink' },
      ],
    }),
    moveNotDone: () => ({
      subject: "[{service}] Le transfert de contacts n° {taskId} n'aboutira pas",
      blocks: [
        {
          paragraph:
            "Le transfert n° {taskId} (contact {roles} de {count} services, de {from} à {to}) n'aboutira pas : {reason}. Les contacts n'ont pas changé. Services : {service}.",
        },
        { link: 'Détails :', href: 'requestsLink' },
      ],
    }),
    moveNeedsAttention: () => ({
      subject: "[{service}] Un courriel du transfert n° {taskId} n'a pas pu être remis",
      blocks: [
        {
          paragraph:
            "Le courriel du transfert n° {taskId} (contact {roles} de {count} services, de {from} à {to}) n'a pas pu être remis à l'adresse de {undeliverable}. Le transfert reste ouvert jusqu'au {expiresAt}. Services : {service}.",
        },
        {
          intro:
            "Demandez à {undeliverable} de corriger l'adresse e-mail de son profil, puis renvoyez le courriel depuis la page du transfert :",
          button: 'Ouvrir le transfert',
          href: 'requestsLink',
        },
      ],
    }),
  },
};
