import { Router, type RequestHandler } from 'express';
import type { createContactMoves } from '../contact-moves';
import { moveAcceptBody, moveBody, moveItemQuery, resendBody, taskIdParams, tokenBody } from '../schemas';

/** Moves: many services' roles from one account to another (MOVE-API.md; docs/product.md). */
export function movesRouter(
  contactMoves: ReturnType<typeof createContactMoves>,
  limits: { codeSubmission: RequestHandler; resend: RequestHandler },
): Router {
  const router = Router();
  const base = '/me/contactMove';

  router.post(base, async (req, res) => {
    const body = moveBody.parse(req.body ?? {});
    if (body.dryRun) {
      res.json(await contactMoves.dryRun(req.account!, body));
      return;
    }
    const created = await contactMoves.create(req.account!, body, req.ip);
    res.status(created.status).json(created.body);
  });

  router.get(base, async (req, res) => {
    res.json(await contactMoves.listMoveIds(req.account!));
  });

  router.get(`${base}/:id`, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    res.json(await contactMoves.getMove(req.account!, id));
  });

  router.get(`${base}/:id/item`, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    res.json(await contactMoves.listItems(req.account!, id, moveItemQuery.parse(req.query)));
  });

  router.post(`${base}/:id/accept`, limits.codeSubmission, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    const { token, exclude } = moveAcceptBody.parse(req.body ?? {});
    res.json(await contactMoves.decide(req.account!, id, 'accept', token, exclude, req.ip));
  });

  router.post(`${base}/:id/refuse`, limits.codeSubmission, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    const { token } = tokenBody.parse(req.body ?? {});
    res.json(await contactMoves.decide(req.account!, id, 'refuse', token, [], req.ip));
  });

  router.post(`${base}/:id/resendEmail`, limits.resend, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    const { to } = resendBody.parse(req.body ?? {});
    res.json(await contactMoves.resend(req.account!, id, to, req.ip));
  });

  router.post(`${base}/:id/cancel`, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    res.json(await contactMoves.cancel(req.account!, id, req.ip));
  });

  return router;
}
