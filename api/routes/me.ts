import { Router } from 'express';
import type { Db } from '../../lib/db';
import type { AuthAccount } from '../auth/authenticate';
import { updateMeBody } from '../schemas';

export function presentMe(account: AuthAccount) {
  return {
    nichandle: account.handle,
    email: account.email,
    language: account.language,
    billingStanding: account.billingStanding,
  };
}

export function meRouter(db: Db): Router {
  const router = Router();
  router.get('/me', (req, res) => {
    res.json(presentMe(req.account!));
  });
  router.put('/me', async (req, res) => {
    const body = updateMeBody.parse(req.body);
    const account = await db.account.update({ where: { id: req.account!.id }, data: body });
    res.json(presentMe(account));
  });
  return router;
}
