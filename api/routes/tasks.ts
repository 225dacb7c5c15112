import { Router, type RequestHandler } from 'express';
import type { createContactChanges } from '../contact-changes';
import { resendBody, taskIdParams, taskListQuery, tokenBody } from '../schemas';

export interface TaskRateLimits {
  codeSubmission: RequestHandler;
  resend: RequestHandler;
}

export function tasksRouter(
  contactChanges: ReturnType<typeof createContactChanges>,
  limits: TaskRateLimits,
): Router {
  const router = Router();
  const base = '/me/task/contactChange';

  router.get(base, async (req, res) => {
    const { state } = taskListQuery.parse(req.query);
    res.json(await contactChanges.listTaskIds(req.account!, state));
  });

  router.get(`${base}/:id`, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    res.json(await contactChanges.getTask(req.account!, id));
  });

  for (const decision of ['accept', 'refuse'] as const) {
    router.post(`${base}/:id/${decision}`, limits.codeSubmission, async (req, res) => {
      const { id } = taskIdParams.parse(req.params);
      const { token } = tokenBody.parse(req.body ?? {});
      res.json(await contactChanges.decide(req.account!, id, decision, token, req.ip));
    });
  }

  router.post(`${base}/:id/resendEmail`, limits.resend, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    const { to } = resendBody.parse(req.body ?? {});
    res.json(await contactChanges.resend(req.account!, id, to, req.ip));
  });

  router.post(`${base}/:id/cancel`, async (req, res) => {
    const { id } = taskIdParams.parse(req.params);
    res.json(await contactChanges.cancel(req.account!, id, req.ip));
  });

  return router;
}
