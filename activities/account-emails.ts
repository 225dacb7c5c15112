import type { Language } from './email-templates';

/** Mails about the account itself (not about a contact change): plain text, one per language. */
export type AccountEmailKind = 'confirmNewEmail' | 'emailChangeRequested' | 'emailChanged';

export interface AccountEmailContext {
  handle: string;
  newEmail: string;
  confirmLink: string;
  token: string;
  expiresAt: string;
  profileLink: string;
}

type Templates = Record<AccountEmailKind, (c: AccountEmailContext) => { subject: string; text: string }>;

const TEMPLATES: Record<Language, Templates> = {
  en: {
    confirmNewEmail: (c) => ({
      subject: `Confirm your new email address for ${c.handle}`,
      text: `Hello ${c.handle},\n\nTo make ${c.newEmail} the email address of your account, open this link while logged in to the portal:\n${c.confirmLink}\n\nOr enter this confirmation code on your profile page: ${c.token}\nIt is valid until ${c.expiresAt}. If you did not ask for this, ignore this message: nothing changes.`,
    }),
    emailChangeRequested: (c) => ({
      subject: `A change of the email address of ${c.handle} was asked`,
      text: `Hello ${c.handle},\n\nSomeone asked to replace this address with ${c.newEmail} on your account. It changes only once confirmed from the new address.\nIf it was not you, change your password, log out everywhere and check your API keys: ${c.profileLink}`,
    }),
    emailChanged: (c) => ({
      subject: `The email address of ${c.handle} has changed`,
      text: `Hello ${c.handle},\n\nThe email address of your account is now ${c.newEmail}; mail will no longer come to this address.\nIf it was not you, contact support at once.`,
    }),
  },
  es: {
    confirmNewEmail: (c) => ({
      subject: `Confirme su nueva dirección de correo para ${c.handle}`,
      text: `Hola ${c.handle}:\n\nPara que ${c.newEmail} sea la dirección de correo de su cuenta, abra este enlace con la sesión iniciada en el portal:\n${c.confirmLink}\n\nO introduzca este código de confirmación en su perfil: ${c.token}\nEs válido hasta el ${c.expiresAt}. Si no lo ha pedido, ignore este mensaje: no cambiará nada.`,
    }),
    emailChangeRequested: (c) => ({
      subject: `Se ha pedido cambiar la dirección de correo de ${c.handle}`,
      text: `Hola ${c.handle}:\n\nAlguien ha pedido sustituir esta dirección por ${c.newEmail} en su cuenta. Solo cambiará cuando se confirme desde la nueva dirección.\nSi no ha sido usted, cambie su contraseña, cierre todas las sesiones y revise sus claves de API: ${c.profileLink}`,
    }),
    emailChanged: (c) => ({
      subject: `La dirección de correo de ${c.handle} ha cambiado`,
      text: `Hola ${c.handle}:\n\nLa dirección de correo de su cuenta es ahora ${c.newEmail}; ya no recibirá correos en esta dirección.\nSi no ha sido usted, contacte con el soporte de inmediato.`,
    }),
  },
  fr: {
    confirmNewEmail: (c) => ({
      subject: `Confirmez votre nouvelle adresse e-mail pour ${c.handle}`,
      text: `Bonjour ${c.handle},\n\nPour que ${c.newEmail} devienne l'adresse e-mail de votre compte, ouvrez ce lien en étant connecté au portail :\n${c.confirmLink}\n\nOu saisissez ce code de confirmation sur votre page de profil : ${c.token}\nIl est valable jusqu'au ${c.expiresAt}. Si vous n'avez rien demandé, ignorez ce message : rien ne change.`,
    }),
    emailChangeRequested: (c) => ({
      subject: `Un changement de l'adresse e-mail de ${c.handle} a été demandé`,
      text: `Bonjour ${c.handle},\n\nQuelqu'un a demandé à remplacer cette adresse par ${c.newEmail} sur votre compte. Elle ne changera qu'une fois confirmée depuis la nouvelle adresse.\nSi ce n'était pas vous, changez votre mot de passe, déconnectez toutes les sessions et vérifiez vos clés d'API : ${c.profileLink}`,
    }),
    emailChanged: (c) => ({
      subject: `L'adresse e-mail de ${c.handle} a changé`,
      text: `Bonjour ${c.handle},\n\nL'adresse e-mail de votre compte est désormais ${c.newEmail} ; vous ne recevrez plus de messages à cette adresse.\nSi ce n'était pas vous, contactez le support immédiatement.`,
    }),
  },
};

export function renderAccountEmail(language: Language, kind: AccountEmailKind, context: AccountEmailContext) {
  return TEMPLATES[language][kind](context);
}
