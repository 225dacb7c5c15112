import { Router } from 'express';

export function portalRouter(): Router {
  const router = Router();
  return router;
}
