import { Router } from 'express';
import type { Db } from '../../lib/db';
import { rolesOf, type ServiceContacts } from '../../domain/contact-rules';
import { contactsOf } from '../../domain/roles';
import type { createContactChanges } from '../contact-changes';
import { serviceNotFound } from '../errors';
import { SERVICE_TYPES } from '../../domain/service-types';
import { changeContactBody, serviceListQuery, serviceNameParams } from '../schemas';
import { servicesOfAccount } from '../services-query';

function present(serviceName: string, serviceType: string, contacts: ServiceContacts, handle: string) {
  return { serviceName, serviceType, ...contacts, myRoles: rolesOf(handle, contacts) };
}

export function servicesRouter(db: Db, contactChanges: ReturnType<typeof createContactChanges>): Router {
  const router = Router();

  router.get('/me/contactManagement/services', async (req, res) => {
    const query = serviceListQuery.parse(req.query);
    const page = await servicesOfAccount(db, req.account!.id, query);
    res.json({
      items: page.rows.map(({ name, type, ...contacts }) =>
        present(name, type, contacts, req.account!.handle),
      ),
      nextCursor: page.nextCursor,
    });
  });

  // One pair of routes per service family, at the provider's own paths (some families span several segments).
  for (const { type: serviceType, serviceInfos } of SERVICE_TYPES) {
    if (serviceInfos) {
      router.get(`/${serviceType}/:serviceName/serviceInfos`, async (req, res) => {
        const { serviceName } = serviceNameParams.parse(req.params);
        const service = await db.service.findUnique({
          where: { name: serviceName },
          include: { admin: true, tech: true, billing: true },
        });
        if (!service || service.type !== serviceType) throw serviceNotFound();
        const mine = present(service.name, service.type, contactsOf(service), req.account!.handle);
        if (mine.myRoles.length === 0) throw serviceNotFound();
        res.json({ ...mine, domain: mine.serviceName });
      });
    }
    router.post(`/${serviceType}/:serviceName/changeContact`, async (req, res) => {
      const { serviceName } = serviceNameParams.parse(req.params);
      const body = changeContactBody.parse(req.body ?? {});
      const ids = await contactChanges.requestChange(req.account!, serviceType, serviceName, body, req.ip);
      res.json(ids);
    });
    router.post(`/${serviceType}/:serviceName/changeContact/check`, async (req, res) => {
      const { serviceName } = serviceNameParams.parse(req.params);
      const body = changeContactBody.parse(req.body ?? {});
      res.json(await contactChanges.checkChange(req.account!, serviceType, serviceName, body));
    });
  }

  return router;
}
