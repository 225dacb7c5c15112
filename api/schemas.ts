import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../lib/webhooks';
import { CONTACT_TYPES, TASK_STATES } from '../workflows/contact-change.messages';

extendZodWithOpenApi(z);

/** Every body, query and path the routes accept, and the shapes they answer; the OpenAPI document is made from these. */

export const handleSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z]{2}\d+-[a-z]+$/, 'must be an account handle such as xx11111-ovh')
  .openapi({ example: 'xx11111-ovh' });

export const languageSchema = z.enum(['es', 'en', 'fr']);
export const contactTypeSchema = z.enum(CONTACT_TYPES);
export const taskStateSchema = z.enum(TASK_STATES);

export const taskIdParams = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) }).strict();

export const serviceParams = z
  .object({
    serviceType: z.string().regex(/^[a-zA-Z][\w-]{0,40}$/, 'unknown service type'),
    serviceName: z.string().min(1).max(255),
  })
  .strict();

/** The service's name in a service family's own path (`/hosting/web/{serviceName}/…`). */
export const serviceNameParams = z.object({ serviceName: z.string().min(1).max(255) }).strict();

export const changeContactBody = z
  .object({
    contactAdmin: handleSchema.optional(),
    contactTech: handleSchema.optional(),
    contactBilling: handleSchema.optional(),
  })
  .strict()
  .openapi('ChangeContactBody');

export const tokenBody = z
  .object({
    token: z.string().min(1).max(64).openapi({ description: 'The verification code received by email' }),
  })
  .strict()
  .openapi('TokenBody');

export const updateMeBody = z
  .object({ email: z.email().max(254).optional(), language: languageSchema.optional() })
  .strict()
  .refine((body) => body.email !== undefined || body.language !== undefined, 'give email and/or language')
  .openapi('UpdateMeBody');

export const taskListQuery = z.object({ state: taskStateSchema.optional() }).strict();

export const serviceListQuery = z
  .object({
    type: z.string().max(40).optional(),
    role: contactTypeSchema.optional(),
    name: z.string().max(255).optional(),
    cursor: z.string().max(255).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export const loginBody = z
  .object({ handle: handleSchema, password: z.string().min(1).max(200) })
  .strict()
  .openapi('LoginBody');

export const credentialBody = z
  .object({
    accessRules: z
      .array(
        z
          .object({
            method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'ALL']),
            path: z.string().min(1).max(200),
          })
          .strict(),
      )
      .min(1)
      .max(50),
    redirection: z.url().optional(),
  })
  .strict()
  .openapi('CredentialBody');

export const applicationBody = z
  .object({ name: z.string().min(1).max(100) })
  .strict()
  .openapi('ApplicationBody');

export const meResponse = z
  .object({
    nichandle: z.string(),
    email: z.string(),
    language: languageSchema,
    billingStanding: z.enum(['good', 'arrears']),
  })
  .openapi('Me');

export const validatorResponse = z.object({
  handle: z.string(),
  status: z.enum(['pending', 'accepted', 'refused']),
  decidedAt: z.string().optional(),
});

export const historyEntry = z.object({ date: z.string(), actor: z.string(), action: z.string() });

export const taskResponse = z
  .object({
    id: z.number(),
    askingAccount: z.string().optional(),
    fromAccount: z.string(),
    toAccount: z.string(),
    contactTypes: z.array(contactTypeSchema),
    serviceDomain: z.string().optional(),
    state: taskStateSchema,
    /** Still in progress (the state is one of the open states). */
    open: z.boolean(),
    /** The person reading the task may cancel it now. */
    canCancel: z.boolean(),
    dateRequest: z.string(),
    dateDone: z.string().optional(),
    serviceType: z.string(),
    reason: z.string().optional(),
    validators: z.array(validatorResponse),
    awaiting: z.array(z.string()),
    informed: z.array(z.string()),
    expiresAt: z.string(),
    history: z.array(historyEntry),
  })
  .openapi('ContactChangeTask');

export const serviceContactsResponse = z
  .object({
    serviceName: z.string(),
    serviceType: z.string(),
    contactAdmin: z.string(),
    contactTech: z.string(),
    contactBilling: z.string(),
    myRoles: z.array(contactTypeSchema),
  })
  .openapi('ServiceContacts');

export const servicePage = z
  .object({ items: z.array(serviceContactsResponse), nextCursor: z.string().nullable() })
  .openapi('ServicePage');

export const errorResponse = z
  .object({ class: z.string(), message: z.string(), reason: z.string(), requestId: z.string().optional() })
  .openapi('Error');

export const decisionResponse = z
  .object({ outcome: z.enum(['accepted', 'refused']), task: taskResponse })
  .openapi('Decision');

export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);

const webhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .openapi({
    description: 'Where events are posted (http or https)',
    example: 'https://example.net/hooks/contacts',
  });

export const webhookCreateBody = z
  .object({
    url: webhookUrl,
    events: z
      .array(webhookEventTypeSchema)
      .max(20)
      .optional()
      .openapi({ description: 'Empty or absent: all events' }),
    description: z.string().max(200).optional(),
  })
  .strict()
  .openapi('WebhookCreate');

export const webhookUpdateBody = z
  .object({
    url: webhookUrl.optional(),
    events: z.array(webhookEventTypeSchema).max(20).optional(),
    description: z.string().max(200).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi('WebhookUpdate');

export const webhookResponse = z
  .object({
    id: z.number(),
    url: z.string(),
    description: z.string(),
    events: z.array(webhookEventTypeSchema),
    enabled: z.boolean(),
    createdAt: z.string(),
    previousSecretValidUntil: z.string().optional(),
  })
  .openapi('Webhook');

export const webhookSecretResponse = webhookResponse
  .extend({
    secret: z.string().openapi({ description: 'Standard Webhooks secret ("whsec_…"); shown only here' }),
  })
  .openapi('WebhookWithSecret');

export const webhookDeliveryResponse = z
  .object({
    id: z.string(),
    eventType: webhookEventTypeSchema,
    state: z.enum(['queued', 'pending', 'delivered', 'givenUp', 'dropped']),
    createdAt: z.string(),
    finishedAt: z.string().optional(),
    attempts: z.array(
      z.object({
        attempt: z.number(),
        startedAt: z.string(),
        durationMs: z.number(),
        statusCode: z.number().optional(),
        error: z.string().optional(),
      }),
    ),
  })
  .openapi('WebhookDelivery');
