import { Router } from 'express';
import {
  renderAccountEmail,
  type AccountEmailContext,
  type AccountEmailKind,
} from '../../activities/account-emails';
import { MailRejected, type Mailer } from '../../activities/mailer';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { requirePortalSession, type AuthAccount } from '../auth/authenticate';
import { hashingBusy, type HashingSlots, type LoginThrottle } from '../auth/login-throttle';
import { hashPassword, verifyPassword } from '../auth/passwords';
import { endAccountSessions } from '../auth/session';
import { newToken, tokenHash } from '../auth/tokens';
import { ApiError } from '../errors';
import { emailConfirmBody, passwordChangeBody, updateMeBody } from '../schemas';

/** How long the link mailed to a new address stays good. */
export const EMAIL_CONFIRMATION_TTL_MS = 24 * 3_600_000;

export function presentMe(account: AuthAccount) {
  return {
    nichandle: account.handle,
    email: account.email,
    language: account.language,
    billingStanding: account.billingStanding,
  };
}

export interface MeRouterDeps {
  db: Db;
  mailer: Mailer;
  publicBaseUrl: string;
  logger: Logger;
  hashing: HashingSlots;
  loginThrottle: LoginThrottle;
}

export function meRouter(deps: MeRouterDeps): Router {
  const { db, logger } = deps;
  const base = deps.publicBaseUrl.replace(/\/$/, '');
  const router = Router();

  async function mail(
    kind: AccountEmailKind,
    to: string,
    account: AuthAccount,
    context: Omit<AccountEmailContext, 'handle' | 'profileLink'>,
    id: number,
  ) {
    const email = renderAccountEmail(account.language, kind, {
      ...context,
      handle: account.handle,
      profileLink: `${base}/profile`,
    });
    try {
      await deps.mailer.send({ to, ...email, messageId: `<email-change-${id}.${kind}@contacts>` });
    } catch (error) {
      // The mail server is a dependency of this request: refusing the address for good is the customer's to
      // know (and fix); anything else (4xx, no answer, no connection) passes, and asking again is safe (a new
      // request replaces the pending change and its link). Never a 500 (found by npm run soak's mail faults).
      if (error instanceof MailRejected)
        throw new ApiError(
          422,
          'emailRejected',
          `The mail server of ${to} refused our mail: check the address`,
        );
      logger.warn({ err: error, accountId: account.id, kind }, 'account mail not sent');
      throw new ApiError(
        503,
        'mailUnavailable',
        'Our mail server cannot send mail at the moment: try again shortly',
      );
    }
  }

  /** The address an email change waits to confirm, while its link is still good. */
  async function pendingEmailOf(accountId: number): Promise<string | undefined> {
    const change = await db.emailChange.findFirst({
      where: { accountId, confirmedAt: null, expiresAt: { gt: new Date() } },
      orderBy: { id: 'desc' },
    });
    return change?.newEmail;
  }

  router.get('/me', async (req, res) => {
    const pendingEmail = await pendingEmailOf(req.account!.id);
    res.json({ ...presentMe(req.account!), ...(pendingEmail ? { pendingEmail } : {}) });
  });

  /** Gives up a pending email change: its link stops working; mail keeps going to the current address. */
  router.delete('/me/email/pending', async (req, res) => {
    await db.emailChange.deleteMany({ where: { accountId: req.account!.id, confirmedAt: null } });
    logger.info({ accountId: req.account!.id }, 'email change cancelled');
    res.status(204).end();
  });

  /** The language changes at once; a new email address only once confirmed from that address. */
  router.put('/me', async (req, res) => {
    const body = updateMeBody.parse(req.body);
    let account = req.account!;
    if (body.language)
      account = await db.account.update({ where: { id: account.id }, data: { language: body.language } });
    const pendingEmail = body.email !== undefined && body.email !== account.email ? body.email : undefined;
    if (pendingEmail) await askEmailChange(account, pendingEmail);
    res.json({ ...presentMe(account), ...(pendingEmail ? { pendingEmail } : {}) });
  });

  async function askEmailChange(account: AuthAccount, newEmail: string) {
    const token = newToken(24);
    const expiresAt = new Date(Date.now() + EMAIL_CONFIRMATION_TTL_MS);
    // One pending change per account: asking again replaces the earlier link.
    const [, change] = await db.$transaction([
      db.emailChange.deleteMany({ where: { accountId: account.id } }),
      db.emailChange.create({
        data: { accountId: account.id, newEmail, tokenHash: tokenHash(token), expiresAt },
      }),
    ]);
    const context = {
      newEmail,
      token,
      confirmLink: `${base}/profile#confirmEmail=${token}`,
      expiresAt: expiresAt.toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    };
    try {
      await mail('confirmNewEmail', newEmail, account, context, change.id);
      await mail('emailChangeRequested', account.email, account, context, change.id);
    } catch (error) {
      // Answered with an error, the request changed nothing: its link stops working (asking again mails a new one).
      await db.emailChange.deleteMany({ where: { id: change.id } });
      throw error;
    }
    logger.info({ accountId: account.id, changeId: change.id }, 'email change asked');
  }

  // Only a person logged in to the portal confirms: a consumer key that asked for the change cannot finish it.
  router.post('/me/email/confirm', requirePortalSession, async (req, res) => {
    const { token } = emailConfirmBody.parse(req.body ?? {});
    const account = req.account!;
    const change = await db.emailChange.findUnique({ where: { tokenHash: tokenHash(token) } });
    if (!change || change.accountId !== account.id || change.expiresAt.getTime() <= Date.now()) {
      throw new ApiError(
        404,
        'emailChangeNotFound',
        'This confirmation does not exist, expired or is for another account',
      );
    }
    // Confirmed once: the change is kept, marked, until it expires (asking for another change removes it), so a
    // confirmation sent again because its answer was lost is answered as done, and done nothing twice.
    const updated = await db.$transaction(async (tx) => {
      const marked = await tx.emailChange.updateMany({
        where: { id: change.id, confirmedAt: null },
        data: { confirmedAt: new Date() },
      });
      if (marked.count === 0) return undefined;
      await tx.emailChange.deleteMany({ where: { accountId: account.id, id: { not: change.id } } });
      return tx.account.update({ where: { id: account.id }, data: { email: change.newEmail } });
    });
    if (!updated) {
      // Read afresh: a confirmation sent twice at once has the other's change committed by now.
      res.json(presentMe(await db.account.findUniqueOrThrow({ where: { id: account.id } })));
      return;
    }
    const ended = await endAccountSessions(db, account.id, req.sessionId);
    await mail(
      'emailChanged',
      account.email,
      account,
      { newEmail: change.newEmail, token: '', confirmLink: '', expiresAt: '' },
      change.id,
    );
    logger.info({ accountId: account.id, changeId: change.id, endedSessions: ended }, 'email changed');
    res.json(presentMe(updated));
  });

  router.put('/me/password', requirePortalSession, async (req, res) => {
    const { currentPassword, newPassword } = passwordChangeBody.parse(req.body ?? {});
    const account = await db.account.findUniqueOrThrow({ where: { id: req.account!.id } });
    if (await deps.loginThrottle.blockedBy(req.ip ?? 'unknown', account.handle)) {
      throw new ApiError(429, 'rateLimited', 'Too many failed attempts: wait a moment and try again');
    }
    const checked = await deps.hashing.run(async () =>
      (await verifyPassword(currentPassword, account.passwordHash)) ? hashPassword(newPassword) : undefined,
    );
    if (!checked.done) throw hashingBusy();
    if (!checked.value) {
      // A stolen session must not become a free password oracle: wrong answers count as failed logins.
      await deps.loginThrottle.recordFailure(req.ip ?? 'unknown', account.handle);
      throw new ApiError(403, 'badCredentials', 'The current password is wrong');
    }
    await db.account.update({ where: { id: account.id }, data: { passwordHash: checked.value } });
    const ended = await endAccountSessions(db, account.id, req.sessionId);
    logger.info({ accountId: account.id, endedSessions: ended }, 'password changed');
    res.json(presentMe(account));
  });

  return router;
}
