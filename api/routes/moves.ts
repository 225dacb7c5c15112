import { Router } from 'express';
import type { createContactMoves } from '../contact-moves';
import { ApiError } from '../errors';
import { moveBody } from '../schemas';

/** Moves: many services' roles from one account to another (MOVE-API.md; docs/product.md). */
export function movesRouter(contactMoves: ReturnType<typeof createContactMoves>): Router {
  const router = Router();
  const base = '/me/contactMove';

  router.post(base, async (req, res) => {
    const body = moveBody.parse(req.body ?? {});
    if (body.dryRun) {
      res.json(await contactMoves.dryRun(req.account!, body));
      return;
    }
    // Creating a move lands with its workflow (the next commit); the dry run is the review screen's answer.
    throw new ApiError(400, 'dryRunOnly', 'Moves can only be dry-run for now: send dryRun: true');
  });

  return router;
}
