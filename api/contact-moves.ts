import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import type { Config } from '../lib/config';
import type { Db } from '../lib/db';
import { moveRoles, type MoveSkipReason } from '../domain/moves';
import {
  planMove,
  servicesMatching,
  servicesNamed,
  type MoveParties,
  type PlannedItem,
} from '../lib/move-selection';
import type { AuthAccount } from './auth/authenticate';
import { ApiError } from './errors';
import type { moveBody, moveDryRunResponse } from './schemas';

export interface ContactMoveDeps {
  db: Db;
  temporal: Client;
  config: Pick<
    Config,
    | 'TEMPORAL_TASK_QUEUE'
    | 'TEMPORAL_SEARCH_ATTRIBUTES'
    | 'CODE_HASH_KEY'
    | 'TASK_EXPIRY'
    | 'REMINDER_BEFORE_EXPIRY'
    | 'RESEND_MIN_INTERVAL'
    | 'TASK_REGISTRATION_TIMEOUT'
    | 'MOVE_MAX_SERVICES'
  >;
}

type MoveBody = z.infer<typeof moveBody>;
type DryRun = z.infer<typeof moveDryRunResponse>;

/** The selection of a move request, planned: the services found (with their plan) and the names that are not. */
export interface PlannedSelection {
  parties: MoveParties;
  items: PlannedItem[];
  /** Names of an explicit list that name no service: judged as `notAContact`, like a service of someone else. */
  unknownNames: string[];
}

const tooManyServices = (max: number) =>
  new ApiError(400, 'tooManyServices', `A move may select at most ${max} services (MOVE_MAX_SERVICES)`, {
    maxServices: max,
  });

export function createContactMoves(deps: ContactMoveDeps) {
  const { db, config } = deps;
  const max = config.MOVE_MAX_SERVICES;

  /**
   * What the request selects, each service planned by the rule table. A filter selects only services the asker
   * is a contact of: what another account holds elsewhere is not the asker's business (nothing leaks).
   */
  async function planSelection(account: AuthAccount, body: MoveBody): Promise<PlannedSelection> {
    const parties: MoveParties = {
      asker: account.handle,
      fromAccount: body.fromAccount ?? account.handle,
      toAccount: body.toAccount,
      roles: moveRoles(body.contactTypes),
    };
    if (body.services) {
      const names = [...new Set(body.services)];
      if (names.length > max) throw tooManyServices(max);
      const found = await servicesNamed(db, names);
      const known = new Set(found.map((service) => service.name));
      const items = await planMove(
        db,
        parties,
        found.map((service) => service.id),
      );
      return { parties, items, unknownNames: names.filter((name) => !known.has(name)) };
    }
    const from = await db.account.findUnique({
      where: { handle: parties.fromAccount },
      select: { id: true },
    });
    const ids = from ? await servicesMatching(db, from.id, parties.roles, body.filter ?? {}, max + 1) : [];
    if (ids.length > max) throw tooManyServices(max);
    const items = (await planMove(db, parties, ids)).filter(
      ({ plan }) => plan.movable || plan.reason !== 'notAContact',
    );
    return { parties, items, unknownNames: [] };
  }

  /** The dry run: per service, whether it moves and why not, who validates and who is only told. */
  async function dryRun(account: AuthAccount, body: MoveBody): Promise<DryRun> {
    const { items, unknownNames } = await planSelection(account, body);
    const byReason: Record<string, number> = {};
    const validators = new Map<string, number>();
    const informed = new Set<string>();
    const answered: DryRun['items'] = items.map(({ service, plan }) => {
      if (!plan.movable) {
        byReason[plan.reason] = (byReason[plan.reason] ?? 0) + 1;
        return {
          serviceName: service.name,
          // A service one is not a contact of answers as one that does not exist: no type.
          ...(plan.reason === 'notAContact' ? {} : { serviceType: service.type }),
          contactTypes: [],
          movable: false,
          reason: plan.reason,
          message: plan.message,
          validators: [],
          informed: [],
        };
      }
      for (const handle of plan.task.validators) validators.set(handle, (validators.get(handle) ?? 0) + 1);
      for (const handle of plan.task.informed) informed.add(handle);
      return {
        serviceName: service.name,
        serviceType: service.type,
        contactTypes: plan.task.contactTypes,
        movable: true,
        validators: plan.task.validators,
        informed: plan.task.informed,
      };
    });
    const notAContact: MoveSkipReason = 'notAContact';
    for (const name of unknownNames) {
      byReason[notAContact] = (byReason[notAContact] ?? 0) + 1;
      answered.push({
        serviceName: name,
        contactTypes: [],
        movable: false,
        reason: notAContact,
        message: 'this service does not exist or you are not one of its contacts',
        validators: [],
        informed: [],
      });
    }
    return {
      dryRun: true,
      total: answered.length,
      movable: answered.filter((item) => item.movable).length,
      byReason,
      validators: [...validators].map(([handle, count]) => ({ handle, items: count })),
      informed: [...informed],
      items: answered,
    };
  }

  return { planSelection, dryRun };
}
