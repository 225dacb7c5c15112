import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../lib/webhooks';
import { MOVE_STATES } from '../domain/moves';
import { CONTACT_TYPES, TASK_STATES } from '../workflows/contact-change.messages';

extendZodWithOpenApi(z);

/** Every body, query and path the routes accept, and the shapes they answer; the OpenAPI document is made from these. */

export const handleSchema = z
  .string()
  .max(64)
  .trim()
  // Before lower-casing: "K" (Kelvin sign) or "ſ" would otherwise become ASCII letters and name another account.
  .regex(/^[\x20-\x7e]*$/, 'must be an account handle such as xx11111-ovh')
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

export const resendBody = z
  .object({
    to: z.array(handleSchema).min(1).max(10).optional().openapi({
      description:
        'Whom to send a fresh code to (validators still awaited); by default yourself if awaited, else (the asker) everyone awaited',
    }),
  })
  .strict()
  .openapi('ResendBody');

export const resendResponse = z
  .object({
    resentTo: z.array(z.string()),
    notYet: z.array(z.object({ handle: z.string(), retryAfterSeconds: z.number() })),
  })
  .openapi('Resend');

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

export const accessRuleSchema = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'ALL']),
    path: z
      .string()
      .min(1)
      .max(200)
      .regex(/^\/[\w\-./{}*]*$/, 'must be an API path such as /me or /domain/*'),
  })
  .strict()
  .openapi('AccessRule');

/** Where the browser goes after the consent page: an http(s) URL only (never javascript: or data:). */
const redirectionUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .openapi({ example: 'https://app.example/callback' });

export const credentialBody = z
  .object({
    accessRules: z.array(accessRuleSchema).min(1).max(50),
    // The official Python client always sends both, null when not given.
    redirection: redirectionUrl.nullish(),
    allowedIPs: z
      .null({ error: 'restricting a consumer key to addresses is not offered: leave allowedIPs out' })
      .optional(),
  })
  .strict()
  .openapi('CredentialBody');

export const applicationBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    description: z.string().trim().max(500).default(''),
  })
  .strict()
  .openapi('ApplicationBody');

export const CREDENTIAL_VALIDITIES = ['1h', '1d', '30d', 'unlimited'] as const;

export const validateCredentialBody = z
  .object({
    validity: z.enum(CREDENTIAL_VALIDITIES).optional(),
    expiration: z.iso.datetime({ offset: true }).optional().openapi({ description: 'A date in the future' }),
  })
  .strict()
  .refine((body) => (body.validity === undefined) !== (body.expiration === undefined), {
    message: 'give either validity or expiration',
  })
  .openapi('ValidateCredentialBody');

export const validationTokenParams = z.object({ validationToken: z.string().min(1).max(100) }).strict();

const idParam = z.coerce.number().int().positive().max(2_147_483_647);
export const applicationIdParams = z.object({ applicationId: idParam }).strict();
export const credentialIdParams = z.object({ credentialId: idParam }).strict();

export const CREDENTIAL_STATUSES = ['pendingValidation', 'validated', 'refused', 'expired'] as const;

export const credentialListQuery = z
  .object({ applicationId: idParam.optional(), status: z.enum(CREDENTIAL_STATUSES).optional() })
  .strict();

export const updateCredentialBody = z
  .object({
    expiration: z.iso
      .datetime({ offset: true })
      .nullable()
      .openapi({ description: 'A date in the future, or null for no end' }),
  })
  .strict()
  .openapi('UpdateCredentialBody');

export const applicationResponse = z
  .object({
    applicationId: z.number(),
    applicationKey: z.string(),
    name: z.string(),
    description: z.string(),
    status: z.literal('active'),
  })
  .openapi('ApiApplication');

export const newApplicationResponse = applicationResponse
  .extend({ applicationSecret: z.string().openapi({ description: 'Shown once: it is never shown again' }) })
  .openapi('NewApiApplication');

export const credentialResponse = z
  .object({
    credentialId: z.number(),
    applicationId: z.number(),
    rules: z.array(accessRuleSchema),
    status: z.enum(CREDENTIAL_STATUSES),
    creation: z.string(),
    expiration: z.string().nullable(),
    lastUse: z.string().nullable(),
  })
  .openapi('ApiCredential');

export const credentialRequestResponse = z
  .object({
    application: z.object({ name: z.string(), description: z.string() }),
    accessRules: z.array(accessRuleSchema),
    redirection: z.string().nullable(),
    redirectionHost: z.string().nullable().openapi({ description: 'Show it: where the browser goes next' }),
    expiresAt: z.string().openapi({ description: 'The request can be answered until then' }),
    validities: z.array(z.enum(CREDENTIAL_VALIDITIES)),
  })
  .openapi('CredentialRequest');

export const credentialDecisionResponse = z
  .object({
    state: z.enum(['validated', 'refused']),
    credentialId: z.number(),
    expiration: z.string().nullable(),
    redirection: z.string().nullable().openapi({
      description: 'Where to send the browser: from the stored request, never from the page URL',
    }),
  })
  .openapi('CredentialDecision');

export const emailConfirmBody = z
  .object({
    token: z.string().min(1).max(100).openapi({ description: 'The token mailed to the new address' }),
  })
  .strict()
  .openapi('EmailConfirmBody');

export const passwordChangeBody = z
  .object({ currentPassword: z.string().min(1).max(200), newPassword: z.string().min(12).max(200) })
  .strict()
  .openapi('PasswordChangeBody');

export const logoutBody = z
  .object({
    everywhere: z.boolean().default(false).openapi({ description: 'End every session of the account' }),
  })
  .strict()
  .openapi('LogoutBody');

export const meResponse = z
  .object({
    nichandle: z.string(),
    email: z.string(),
    language: languageSchema,
    billingStanding: z.enum(['good', 'arrears']),
    pendingEmail: z.string().optional().openapi({
      description:
        'A new address waiting for its confirmation link to be opened (GET /me, PUT /me); mail still goes to email',
    }),
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
    /** Whom the person reading the task may send a fresh code to now (empty: no resend to offer). */
    canResendTo: z.array(z.string()),
    /** A mail that could not be delivered: the task waits on, and expires on time, until someone acts. */
    needsAttention: z
      .object({
        reason: z.enum(['mailRejected', 'mailUndelivered']),
        handles: z.array(z.string()),
        since: z.string(),
      })
      .optional(),
    dateRequest: z.string(),
    dateDone: z.string().optional(),
    serviceType: z.string(),
    reason: z.string().optional(),
    validators: z.array(validatorResponse),
    awaiting: z.array(z.string()),
    informed: z.array(z.string()),
    expiresAt: z.string(),
    history: z.array(historyEntry),
    /** Set when the task is an item of a move (GET /me/contactMove/{moveId}): its decisions are the move's. */
    moveId: z.number().optional(),
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

export const changeCheckResponse = z
  .object({
    problems: z.partialRecord(
      contactTypeSchema,
      z.object({ reason: z.string(), message: z.string(), taskId: z.number().optional() }),
    ),
    tasks: z.array(
      z.object({
        contactTypes: z.array(contactTypeSchema),
        fromAccount: z.string(),
        toAccount: z.string(),
        validators: z.array(z.string()),
        informed: z.array(z.string()),
        existingTaskId: z.number().optional(),
      }),
    ),
  })
  .openapi('ChangeCheck');

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

// Moves (docs/product.md, "Moving many services at once"; the contract: MOVE-API.md).

const serviceNameSchema = z.string().min(1).max(255);
export const moveRoleSchema = z.enum(['admin', 'tech', 'billing']);
export const moveStateSchema = z.enum(MOVE_STATES);

export const moveBody = z
  .object({
    fromAccount: handleSchema.optional().openapi({ description: 'Whose roles move; by default the caller' }),
    toAccount: handleSchema,
    contactTypes: z.array(moveRoleSchema).min(1).max(3),
    services: z.array(serviceNameSchema).min(1).max(1_000_000).optional().openapi({
      description: 'An explicit list of service names (at most MOVE_MAX_SERVICES)',
    }),
    filter: z
      .object({
        serviceType: z.string().max(40).optional(),
        nameContains: z.string().min(1).max(255).optional(),
      })
      .strict()
      .optional()
      .openapi({
        description: 'Every service where fromAccount holds one of contactTypes, narrowed by type and name',
      }),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .refine((body) => (body.services === undefined) !== (body.filter === undefined), {
    message: 'give exactly one of services and filter',
  })
  .openapi('MoveBody');

const moveReasonSchema = z.string().openapi({
  description:
    'notAContact, roleNotHeld, roleNotAllowed, sameAsCurrent, contactNotEligible, billingInArrears, taskAlreadyOpen, serviceTypeNotAllowed; at apply: roleNoLongerHeld, askerNoLongerEntitled, unknownAccount; by people: excludedByValidator, refusedByContact',
});

export const moveDryRunResponse = z
  .object({
    dryRun: z.literal(true),
    total: z.number(),
    movable: z.number(),
    byReason: z.record(z.string(), z.number()),
    validators: z.array(z.object({ handle: z.string(), items: z.number() })),
    informed: z.array(z.string()),
    items: z.array(
      z.object({
        serviceName: z.string(),
        serviceType: z.string().optional(),
        contactTypes: z.array(contactTypeSchema),
        movable: z.boolean(),
        reason: moveReasonSchema.optional(),
        message: z.string().optional(),
        validators: z.array(z.string()),
        informed: z.array(z.string()),
      }),
    ),
  })
  .openapi('MoveDryRun');

export const moveCountsSchema = z.object({
  total: z.number(),
  applied: z.number(),
  skipped: z.number(),
  refused: z.number(),
  expired: z.number(),
  cancelled: z.number(),
  remaining: z.number(),
});

export const moveResponse = z
  .object({
    id: z.number(),
    state: moveStateSchema,
    reason: z.string().optional(),
    askingAccount: z.string(),
    fromAccount: z.string(),
    toAccount: z.string(),
    contactTypes: z.array(contactTypeSchema),
    dateRequest: z.string(),
    dateDone: z.string().optional(),
    expiresAt: z.string(),
    counts: moveCountsSchema,
    byReason: z.record(z.string(), z.number()),
    validators: z.array(
      z.object({
        handle: z.string(),
        status: z.enum(['pending', 'accepted', 'refused']),
        items: z.number(),
        excluded: z.number(),
        decidedAt: z.string().optional(),
      }),
    ),
    awaiting: z.array(z.string()),
    informed: z.array(z.string()),
    needsAttention: z
      .object({ reason: z.string(), handles: z.array(z.string()), since: z.string() })
      .nullable(),
    canResendTo: z.array(z.string()),
    cancellable: z.boolean(),
    history: z.array(historyEntry),
  })
  .openapi('Move');

export const moveItemQuery = z
  .object({
    state: taskStateSchema.optional(),
    cursor: z.string().max(255).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const moveItemPage = z
  .object({
    items: z.array(
      z.object({
        taskId: z.number(),
        serviceName: z.string(),
        serviceType: z.string(),
        contactTypes: z.array(contactTypeSchema),
        state: taskStateSchema,
        reason: z.string().optional(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi('MoveItemPage');

export const moveAcceptBody = z
  .object({
    token: z.string().min(1).max(64).openapi({ description: 'The verification code received by email' }),
    exclude: z.array(serviceNameSchema).max(10_000).optional().openapi({
      description: 'Services to leave out: their items end refused (excludedByValidator)',
    }),
  })
  .strict()
  .openapi('MoveAcceptBody');

export const moveDecisionResponse = z
  .object({ outcome: z.enum(['accepted', 'refused']), move: moveResponse })
  .openapi('MoveDecision');
