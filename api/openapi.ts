import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { SERVICE_TYPES } from '../domain/service-types';
import {
  applicationBody,
  applicationIdParams,
  applicationResponse,
  changeCheckResponse,
  changeContactBody,
  credentialBody,
  credentialDecisionResponse,
  credentialIdParams,
  credentialListQuery,
  credentialRequestResponse,
  credentialResponse,
  emailConfirmBody,
  newApplicationResponse,
  passwordChangeBody,
  updateCredentialBody,
  validateCredentialBody,
  validationTokenParams,
  decisionResponse,
  errorResponse,
  meResponse,
  moveAcceptBody,
  moveBody,
  moveDecisionResponse,
  moveDryRunResponse,
  moveItemPage,
  moveItemQuery,
  moveResponse,
  resendBody,
  resendResponse,
  serviceListQuery,
  servicePage,
  serviceContactsResponse,
  serviceParams,
  taskIdParams,
  taskListQuery,
  taskResponse,
  tokenBody,
  updateMeBody,
  webhookCreateBody,
  webhookDeliveryResponse,
  webhookResponse,
  webhookSecretResponse,
  webhookUpdateBody,
} from './schemas';

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const errors = {
  400: { description: 'Invalid input', ...json(errorResponse) },
  401: { description: 'Not authenticated', ...json(errorResponse) },
  403: { description: 'Not allowed', ...json(errorResponse) },
  404: { description: 'Not found (or not yours)', ...json(errorResponse) },
};

/** The OpenAPI document, built from the same zod schemas the routes validate with. */
export function buildOpenApiDocument(apiBasePath: string) {
  const registry = new OpenAPIRegistry();
  const signed = registry.registerComponent('securitySchemes', 'ovhSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Ovh-Signature',
    description:
      '"$1$" + sha1(secret+"+"+consumerKey+"+"+method+"+"+fullUrl+"+"+body+"+"+timestamp), with X-Ovh-Application, X-Ovh-Consumer and X-Ovh-Timestamp',
  });
  const route = (config: Omit<RouteConfig, 'responses'> & { ok: RouteConfig['responses'][string] }) => {
    const { ok, ...rest } = config;
    registry.registerPath({ security: [{ [signed.name]: [] }], ...rest, responses: { 200: ok, ...errors } });
  };
  const ids = json(z.array(z.number()));
  route({
    method: 'get',
    path: '/me',
    summary: 'My account',
    ok: { description: 'The account', ...json(meResponse) },
  });
  route({
    method: 'put',
    path: '/me',
    summary:
      'Change my language (at once) or email address: a new address is mailed a confirmation link and token (see POST /me/email/confirm) and the answer holds pendingEmail; the old address is told. While the mail server cannot take the mail: 503 mailUnavailable with Retry-After; an address its mail server refuses for good: 422 emailRejected (nothing changes either way)',
    request: { body: json(updateMeBody) },
    ok: { description: 'The account', ...json(meResponse) },
  });
  route({
    method: 'get',
    path: '/me/contactManagement/services',
    summary: 'Services where I am a contact (cursor pagination)',
    request: { query: serviceListQuery },
    ok: { description: 'One page', ...json(servicePage) },
  });
  route({
    method: 'get',
    path: '/{serviceType}/{serviceName}/serviceInfos',
    summary: "A service's contacts",
    request: { params: serviceParams },
    ok: { description: 'The contacts', ...json(serviceContactsResponse) },
  });
  route({
    method: 'post',
    path: '/{serviceType}/{serviceName}/changeContact',
    summary: 'Ask for a contact change: answers the ids of the created tasks',
    request: { params: serviceParams, body: json(changeContactBody) },
    ok: { description: 'Task ids', ...ids },
  });
  route({
    method: 'post',
    path: '/{serviceType}/{serviceName}/changeContact/check',
    summary:
      'Judge a contact change without making it: the problem of each new contact, and who would validate or be told',
    request: { params: serviceParams, body: json(changeContactBody) },
    ok: { description: 'Problems per role and the tasks it would open', ...json(changeCheckResponse) },
  });
  for (const { type, parameter, serviceInfos } of SERVICE_TYPES) {
    const params = z.object({ [parameter]: z.string().min(1).max(255) });
    if (serviceInfos) {
      route({
        method: 'get',
        path: `/${type}/{${parameter}}/serviceInfos`,
        summary: `The contacts of a ${type} service`,
        request: { params },
        ok: { description: 'The contacts', ...json(serviceContactsResponse) },
      });
    }
    route({
      method: 'post',
      path: `/${type}/{${parameter}}/changeContact`,
      summary: `Ask for a contact change of a ${type} service: answers the ids of the created tasks`,
      request: { params, body: json(changeContactBody) },
      ok: { description: 'Task ids', ...ids },
    });
  }
  route({
    method: 'get',
    path: '/me/task/contactChange',
    summary: 'Ids of the contact-change tasks that concern me',
    request: { query: taskListQuery },
    ok: { description: 'Task ids', ...ids },
  });
  route({
    method: 'get',
    path: '/me/task/contactChange/{id}',
    summary: 'One task, with the validators still awaited and its history',
    request: { params: taskIdParams },
    ok: { description: 'The task', ...json(taskResponse) },
  });
  for (const decision of ['accept', 'refuse']) {
    route({
      method: 'post',
      path: `/me/task/contactChange/{id}/${decision}`,
      summary: `${decision} the task with the code received by email`,
      request: { params: taskIdParams, body: json(tokenBody) },
      ok: { description: 'The decision counted', ...json(decisionResponse) },
    });
  }
  route({
    method: 'post',
    path: '/me/task/contactChange/{id}/resendEmail',
    summary:
      'Send the email again with a fresh code (at most once a minute per validator: 429 with Retry-After)',
    request: { params: taskIdParams, body: json(resendBody) },
    ok: { description: 'Who was sent a new code, and who not yet', ...json(resendResponse) },
  });
  route({
    method: 'post',
    path: '/me/task/contactChange/{id}/cancel',
    summary: "Cancel a pending task (its asker or the service's admin contact)",
    request: { params: taskIdParams },
    ok: { description: 'The task', ...json(taskResponse) },
  });
  registry.registerPath({
    security: [{ [signed.name]: [] }],
    method: 'post',
    path: '/me/contactMove',
    summary:
      'Move roles of many services from one account to another: a dry run (dryRun: true) answers per service whether it moves and why not; otherwise the move is created (201; 202 with its id while a very large one is still being recorded)',
    request: { body: json(moveBody) },
    responses: {
      200: { description: 'The dry run: nothing created', ...json(moveDryRunResponse) },
      201: { description: 'The move, its items recorded and its mails on their way', ...json(moveResponse) },
      202: {
        description: 'The move, still recording its items',
        ...json(z.object({ id: z.number(), state: z.literal('checking') })),
      },
      400: {
        description: 'Invalid input, or more services than MOVE_MAX_SERVICES (tooManyServices)',
        ...json(errorResponse),
      },
      401: errors[401],
      409: { description: 'No service of the selection can move (nothingToMove)', ...json(errorResponse) },
    },
  });
  route({
    method: 'get',
    path: '/me/contactMove',
    summary: 'Ids of the moves that concern me, newest first',
    ok: { description: 'Move ids', ...ids },
  });
  route({
    method: 'get',
    path: '/me/contactMove/{id}',
    summary: 'One move: its state, counts (applied, skipped, refused, remaining), validators and history',
    request: { params: taskIdParams },
    ok: { description: 'The move', ...json(moveResponse) },
  });
  route({
    method: 'get',
    path: '/me/contactMove/{id}/item',
    summary: "The move's items (one contact-change task per service), by service name, cursor-paged",
    request: { params: taskIdParams, query: moveItemQuery },
    ok: { description: 'A page of items', ...json(moveItemPage) },
  });
  route({
    method: 'post',
    path: '/me/contactMove/{id}/accept',
    summary: 'Accept the move with the code received by email, leaving out the services named in exclude',
    request: { params: taskIdParams, body: json(moveAcceptBody) },
    ok: { description: 'The decision counted', ...json(moveDecisionResponse) },
  });
  route({
    method: 'post',
    path: '/me/contactMove/{id}/refuse',
    summary: 'Refuse the rest of the move with the code received by email',
    request: { params: taskIdParams, body: json(tokenBody) },
    ok: { description: 'The decision counted', ...json(moveDecisionResponse) },
  });
  route({
    method: 'post',
    path: '/me/contactMove/{id}/resendEmail',
    summary: 'Send the move email again with a fresh code (as for a task: 429 with Retry-After if too soon)',
    request: { params: taskIdParams, body: json(resendBody) },
    ok: { description: 'Who was sent a new code, and who not yet', ...json(resendResponse) },
  });
  route({
    method: 'post',
    path: '/me/contactMove/{id}/cancel',
    summary: 'Cancel a move still waiting for validations (the asker only)',
    request: { params: taskIdParams },
    ok: { description: 'The move', ...json(moveResponse) },
  });
  const webhookId = { params: taskIdParams };
  route({
    method: 'get',
    path: '/me/contactChange/webhook',
    summary: 'Ids of my webhook subscriptions to contact-change events',
    ok: { description: 'Webhook ids', ...ids },
  });
  route({
    method: 'post',
    path: '/me/contactChange/webhook',
    summary:
      'Subscribe a URL to my contact-change events (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)',
    request: { body: json(webhookCreateBody) },
    ok: {
      description: 'The subscription, with its secret (shown only here)',
      ...json(webhookSecretResponse),
    },
  });
  route({
    method: 'get',
    path: '/me/contactChange/webhook/{id}',
    summary: 'One webhook subscription',
    request: webhookId,
    ok: { description: 'The subscription', ...json(webhookResponse) },
  });
  route({
    method: 'put',
    path: '/me/contactChange/webhook/{id}',
    summary: 'Change its URL, events or description; enable or disable it',
    request: { ...webhookId, body: json(webhookUpdateBody) },
    ok: { description: 'The subscription', ...json(webhookResponse) },
  });
  route({
    method: 'delete',
    path: '/me/contactChange/webhook/{id}',
    summary: 'Delete the subscription (its pending deliveries are dropped)',
    request: webhookId,
    ok: { description: 'Deleted' },
  });
  route({
    method: 'post',
    path: '/me/contactChange/webhook/{id}/rotateSecret',
    summary: 'A new secret; the previous one keeps signing beside it for WEBHOOK_SECRET_OVERLAP (24 h)',
    request: webhookId,
    ok: { description: 'The subscription, with its new secret', ...json(webhookSecretResponse) },
  });
  route({
    method: 'get',
    path: '/me/contactChange/webhook/{id}/delivery',
    summary: 'The delivery log: the latest 50 deliveries, each with every attempt',
    request: webhookId,
    ok: { description: 'Deliveries', ...json(z.array(webhookDeliveryResponse)) },
  });
  registry.registerPath({
    method: 'get',
    path: '/auth/time',
    summary: 'Server time (unix seconds) for X-Ovh-Timestamp',
    responses: { 200: { description: 'Seconds', ...json(z.number()) } },
  });
  registry.registerPath({
    method: 'post',
    path: '/auth/credential',
    summary: 'Ask for a consumer key (X-Ovh-Application header); a person validates it at validationUrl',
    request: { body: json(credentialBody) },
    responses: {
      200: {
        description: 'Pending consumer key',
        ...json(z.object({ validationUrl: z.string(), consumerKey: z.string(), state: z.string() })),
      },
      ...errors,
    },
  });
  registerSecurityRoutes(route);
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: { title: 'Contacts API', version: '1.0', description: 'Contact-change requests for services' },
    servers: [{ url: apiBasePath }],
  });
}

type RouteAdder = (config: Omit<RouteConfig, 'responses'> & { ok: RouteConfig['responses'][string] }) => void;

/** Consent, consumer keys, applications, email and password: what a person or a script may change on the account. */
function registerSecurityRoutes(route: RouteAdder) {
  const nothing = { description: 'Done', ...json(z.null()) };
  const portalOnly =
    ' Portal session only (cookie and X-CSRF-Token): a consumer key gets 403 sessionRequired.';
  route({
    method: 'get',
    path: '/auth/credential/{validationToken}',
    summary: `The pending consumer-key request, for the consent page.${portalOnly} 404 credentialNotFound once answered or expired.`,
    request: { params: validationTokenParams },
    ok: { description: 'What the application asks for', ...json(credentialRequestResponse) },
  });
  route({
    method: 'post',
    path: '/auth/credential/{validationToken}/validate',
    summary: `Allow the request for a validity (1h, 1d, 30d, unlimited) or until an expiration date.${portalOnly} Redirect the browser to the answer's redirection (from the stored request).`,
    request: { params: validationTokenParams, body: json(validateCredentialBody) },
    ok: { description: 'The key is valid', ...json(credentialDecisionResponse) },
  });
  route({
    method: 'post',
    path: '/auth/credential/{validationToken}/refuse',
    summary: `Refuse the request.${portalOnly}`,
    request: { params: validationTokenParams },
    ok: { description: 'The key will never work', ...json(credentialDecisionResponse) },
  });
  route({
    method: 'get',
    path: '/auth/currentCredential',
    summary: 'The consumer key that signed this request',
    ok: { description: 'The credential', ...json(credentialResponse) },
  });
  route({
    method: 'get',
    path: '/me/api/application',
    summary: 'Ids of the applications this account created',
    ok: { description: 'Ids', ...json(z.array(z.number())) },
  });
  route({
    method: 'post',
    path: '/me/api/application',
    summary: `Create an application; its secret is shown in this answer only.${portalOnly}`,
    request: { body: json(applicationBody) },
    ok: { description: 'The application and its secret', ...json(newApplicationResponse) },
  });
  route({
    method: 'get',
    path: '/me/api/application/{applicationId}',
    summary: 'One of my applications',
    request: { params: applicationIdParams },
    ok: { description: 'The application', ...json(applicationResponse) },
  });
  route({
    method: 'delete',
    path: '/me/api/application/{applicationId}',
    summary: 'Delete one of my applications: every consumer key made for it stops working',
    request: { params: applicationIdParams },
    ok: nothing,
  });
  route({
    method: 'get',
    path: '/me/api/credential',
    summary: 'Ids of the consumer keys this account granted (validated, expired or refused)',
    request: { query: credentialListQuery },
    ok: { description: 'Ids', ...json(z.array(z.number())) },
  });
  route({
    method: 'get',
    path: '/me/api/credential/{credentialId}',
    summary: 'One consumer key: its rules, status, creation, expiration and last use',
    request: { params: credentialIdParams },
    ok: { description: 'The credential', ...json(credentialResponse) },
  });
  route({
    method: 'get',
    path: '/me/api/credential/{credentialId}/application',
    summary: 'The application a consumer key was granted to',
    request: { params: credentialIdParams },
    ok: { description: 'The application', ...json(applicationResponse) },
  });
  route({
    method: 'put',
    path: '/me/api/credential/{credentialId}',
    summary: 'Change when a consumer key expires (null: never). Extending it needs a portal session.',
    request: { params: credentialIdParams, body: json(updateCredentialBody) },
    ok: { description: 'The credential', ...json(credentialResponse) },
  });
  route({
    method: 'delete',
    path: '/me/api/credential/{credentialId}',
    summary: 'Revoke a consumer key now',
    request: { params: credentialIdParams },
    ok: nothing,
  });
  route({
    method: 'post',
    path: '/me/email/confirm',
    summary: `Confirm a new email address with the token mailed to it (the mail links to /profile#confirmEmail=<token>); ends the account's other sessions and tells the old address.${portalOnly} 404 emailChangeNotFound when unknown, expired or for another account; a token already confirmed (its answer lost) is answered as confirmed again, until it expires.`,
    request: { body: json(emailConfirmBody) },
    ok: { description: 'The account, with its new address', ...json(meResponse) },
  });
  route({
    method: 'delete',
    path: '/me/email/pending',
    summary:
      'Give up a pending email change: its confirmation link stops working and mail keeps going to the current address (to send the link again, PUT /me with the same address)',
    ok: nothing,
  });
  route({
    method: 'put',
    path: '/me/password',
    summary: `Change the password (12+ characters); ends the account's other sessions.${portalOnly} 403 badCredentials for a wrong current password.`,
    request: { body: json(passwordChangeBody) },
    ok: { description: 'The account', ...json(meResponse) },
  });
}
