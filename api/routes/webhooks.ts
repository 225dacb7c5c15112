import { Router } from 'express';
import type { Db } from '../../lib/db';
import { webhookTargetProblem, type AllowedRange } from '../../lib/webhook-targets';
import { newWebhookSecret, type WebhookEventType } from '../../lib/webhooks';
import { ApiError, notFound } from '../errors';
import { taskIdParams, webhookCreateBody, webhookUpdateBody } from '../schemas';

const BASE = '/me/contactChange/webhook';
const MAX_SUBSCRIPTIONS = 20;
const DELIVERY_PAGE = 50;

interface SubscriptionRow {
  id: number;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  createdAt: Date;
  previousSecretUntil: Date | null;
}

function present(row: SubscriptionRow) {
  const rotating = row.previousSecretUntil && row.previousSecretUntil > new Date();
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events as WebhookEventType[],
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    ...(rotating ? { previousSecretValidUntil: row.previousSecretUntil!.toISOString() } : {}),
  };
}

/** An account's webhook subscriptions (the portal's session or a script's consumer key acting for it). */
export function webhooksRouter(
  db: Db,
  settings: { secretOverlapMs: number; allowedTargets: readonly AllowedRange[] },
): Router {
  const router = Router();

  /** Refuses a URL that is, or resolves to, a non-public address (checked again at each delivery). */
  async function checkTarget(url: string | undefined) {
    if (url === undefined) return;
    const problem = await webhookTargetProblem(url, settings.allowedTargets);
    if (problem) {
      throw new ApiError(422, 'webhookTargetRefused', `Webhooks go to public addresses only: ${problem}`);
    }
  }

  async function mine(accountId: number, rawId: unknown) {
    const { id } = taskIdParams.parse({ id: rawId });
    const subscription = await db.webhookSubscription.findFirst({ where: { id, accountId } });
    if (!subscription) throw notFound('This webhook does not exist or is not yours');
    return subscription;
  }

  router.get(BASE, async (req, res) => {
    const rows = await db.webhookSubscription.findMany({
      where: { accountId: req.account!.id },
      orderBy: { id: 'asc' },
      select: { id: true },
    });
    res.json(rows.map((row) => row.id));
  });

  router.post(BASE, async (req, res) => {
    const body = webhookCreateBody.parse(req.body ?? {});
    await checkTarget(body.url);
    const count = await db.webhookSubscription.count({ where: { accountId: req.account!.id } });
    if (count >= MAX_SUBSCRIPTIONS) {
      throw new ApiError(
        409,
        'tooManyWebhooks',
        `An account has at most ${MAX_SUBSCRIPTIONS} webhooks: delete one first`,
      );
    }
    const secret = newWebhookSecret();
    const row = await db.webhookSubscription.create({
      data: {
        accountId: req.account!.id,
        url: body.url,
        events: body.events ?? [],
        description: body.description ?? '',
        secret,
      },
    });
    res.json({ ...present(row), secret });
  });

  router.get(`${BASE}/:id`, async (req, res) => {
    res.json(present(await mine(req.account!.id, req.params.id)));
  });

  router.put(`${BASE}/:id`, async (req, res) => {
    const body = webhookUpdateBody.parse(req.body ?? {});
    await checkTarget(body.url);
    const { id } = await mine(req.account!.id, req.params.id);
    res.json(present(await db.webhookSubscription.update({ where: { id }, data: body })));
  });

  router.delete(`${BASE}/:id`, async (req, res) => {
    const { id } = await mine(req.account!.id, req.params.id);
    await db.webhookSubscription.delete({ where: { id } });
    res.status(204).end();
  });

  // A new secret; the old one keeps signing beside it for the overlap, so receivers can switch without a gap.
  router.post(`${BASE}/:id/rotateSecret`, async (req, res) => {
    const current = await mine(req.account!.id, req.params.id);
    const secret = newWebhookSecret();
    const row = await db.webhookSubscription.update({
      where: { id: current.id },
      data: {
        secret,
        previousSecret: current.secret,
        previousSecretUntil: new Date(Date.now() + settings.secretOverlapMs),
      },
    });
    res.json({ ...present(row), secret });
  });

  // The delivery log: the latest deliveries, each with every attempt.
  router.get(`${BASE}/:id/delivery`, async (req, res) => {
    const { id } = await mine(req.account!.id, req.params.id);
    const deliveries = await db.webhookDelivery.findMany({
      where: { subscriptionId: id },
      orderBy: { createdAt: 'desc' },
      take: DELIVERY_PAGE,
      include: { attemptLog: { orderBy: { id: 'asc' } } },
    });
    res.json(
      deliveries.map((d) => ({
        id: d.id,
        eventType: d.eventType,
        state: d.state,
        createdAt: d.createdAt.toISOString(),
        ...(d.finishedAt ? { finishedAt: d.finishedAt.toISOString() } : {}),
        attempts: d.attemptLog.map((a) => ({
          attempt: a.attempt,
          startedAt: a.startedAt.toISOString(),
          durationMs: a.durationMs,
          ...(a.statusCode !== null ? { statusCode: a.statusCode } : {}),
          ...(a.error !== null ? { error: a.error } : {}),
        })),
      })),
    );
  });

  return router;
}
