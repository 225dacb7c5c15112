import { Router } from 'express';
import type { Db } from '../../lib/db';
import type { ConsumerKey } from '../../generated/prisma/client';
import { requirePortalSession } from '../auth/authenticate';
import { newToken } from '../auth/tokens';
import { ApiError, notFound } from '../errors';
import {
  applicationBody,
  applicationIdParams,
  credentialIdParams,
  credentialListQuery,
  updateCredentialBody,
} from '../schemas';

type CredentialStatus = 'pendingValidation' | 'validated' | 'refused' | 'expired';

export function credentialStatus(
  key: Pick<ConsumerKey, 'state' | 'expiresAt'>,
  now = Date.now(),
): CredentialStatus {
  if (key.state === 'validated' && key.expiresAt && key.expiresAt.getTime() <= now) return 'expired';
  return key.state as CredentialStatus;
}

/** The provider's api.Credential. */
export function presentCredential(key: ConsumerKey) {
  return {
    credentialId: key.id,
    applicationId: key.applicationId,
    rules: key.accessRules,
    status: credentialStatus(key),
    creation: key.createdAt.toISOString(),
    expiration: key.expiresAt?.toISOString() ?? null,
    lastUse: key.lastUseAt?.toISOString() ?? null,
  };
}

function presentApplication(application: { id: number; appKey: string; name: string; description: string }) {
  return {
    applicationId: application.id,
    applicationKey: application.appKey,
    name: application.name,
    description: application.description,
    status: 'active' as const,
  };
}

const applicationNotFound = () => notFound('This application does not exist or is not yours');
const credentialNotFound = () => notFound('This credential does not exist or is not yours');

/**
 * The provider's routes to see and revoke what scripts may do on the account: /me/api/application (the
 * applications the account created) and /me/api/credential (the consumer keys it granted, whatever the application).
 */
export function apiKeysRouter(db: Db): Router {
  const router = Router();

  router.get('/me/api/application', async (req, res) => {
    const applications = await db.apiApplication.findMany({
      where: { accountId: req.account!.id },
      select: { id: true },
      orderBy: { id: 'asc' },
    });
    res.json(applications.map((a) => a.id));
  });

  // Creating an application shows its secret: a person does it in the portal, a script cannot mint new ones.
  router.post('/me/api/application', requirePortalSession, async (req, res) => {
    const { name, description } = applicationBody.parse(req.body ?? {});
    const application = await db.apiApplication.create({
      data: { name, description, appKey: newToken(12), secret: newToken(24), accountId: req.account!.id },
    });
    res.status(201).json({ ...presentApplication(application), applicationSecret: application.secret });
  });

  async function ownApplication(accountId: number, params: unknown) {
    const { applicationId } = applicationIdParams.parse(params);
    const application = await db.apiApplication.findFirst({ where: { id: applicationId, accountId } });
    if (!application) throw applicationNotFound();
    return application;
  }

  router.get('/me/api/application/:applicationId', async (req, res) => {
    res.json(presentApplication(await ownApplication(req.account!.id, req.params)));
  });

  /** Deleting an application ends every consumer key made for it, on every account. */
  router.delete('/me/api/application/:applicationId', async (req, res) => {
    const application = await ownApplication(req.account!.id, req.params);
    await db.apiApplication.delete({ where: { id: application.id } });
    res.json(null);
  });

  router.get('/me/api/credential', async (req, res) => {
    const query = credentialListQuery.parse(req.query);
    const keys = await db.consumerKey.findMany({
      where: { accountId: req.account!.id, applicationId: query.applicationId },
      select: { id: true, state: true, expiresAt: true },
      orderBy: { id: 'asc' },
    });
    res.json(
      keys.filter((key) => !query.status || credentialStatus(key) === query.status).map((key) => key.id),
    );
  });

  async function ownCredential(accountId: number, params: unknown) {
    const { credentialId } = credentialIdParams.parse(params);
    const key = await db.consumerKey.findFirst({ where: { id: credentialId, accountId } });
    if (!key) throw credentialNotFound();
    return key;
  }

  router.get('/me/api/credential/:credentialId', async (req, res) => {
    res.json(presentCredential(await ownCredential(req.account!.id, req.params)));
  });

  router.get('/me/api/credential/:credentialId/application', async (req, res) => {
    const key = await ownCredential(req.account!.id, req.params);
    const application = await db.apiApplication.findUniqueOrThrow({ where: { id: key.applicationId } });
    res.json(presentApplication(application));
  });

  router.put('/me/api/credential/:credentialId', async (req, res) => {
    const key = await ownCredential(req.account!.id, req.params);
    const { expiration } = updateCredentialBody.parse(req.body ?? {});
    const next = expiration === null ? null : new Date(expiration);
    if (next && next.getTime() <= Date.now()) {
      throw new ApiError(400, 'invalidInput', 'expiration: must be in the future (DELETE ends a key now)');
    }
    const extends_ = next === null ? key.expiresAt !== null : key.expiresAt !== null && next > key.expiresAt;
    if (extends_ && req.authScheme !== 'session') {
      throw new ApiError(403, 'sessionRequired', 'Only a person logged in to the portal can extend a key');
    }
    if (credentialStatus(key) !== 'validated') {
      throw new ApiError(409, 'credentialNotActive', 'Only a validated, unexpired key can be changed');
    }
    const updated = await db.consumerKey.update({ where: { id: key.id }, data: { expiresAt: next } });
    res.json(presentCredential(updated));
  });

  router.delete('/me/api/credential/:credentialId', async (req, res) => {
    const key = await ownCredential(req.account!.id, req.params);
    await db.consumerKey.delete({ where: { id: key.id } });
    res.json(null);
  });

  return router;
}
