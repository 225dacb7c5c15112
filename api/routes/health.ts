import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../../lib/db';

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);

export function healthRouter(db: Db, temporal: Client): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const [database, temporalServer] = await Promise.all([
      withTimeout(db.$queryRaw`SELECT 1`, 2000).then(
        () => 'ok',
        () => 'unreachable',
      ),
      withTimeout(temporal.workflowService.getSystemInfo({}), 2000).then(
        () => 'ok',
        () => 'unreachable',
      ),
    ]);
    const ready = database === 'ok' && temporalServer === 'ok';
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not ready', database, temporal: temporalServer });
  });
  return router;
}
