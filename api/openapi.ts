import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { SERVICE_TYPES } from '../domain/service-types';
import {
  changeContactBody,
  credentialBody,
  decisionResponse,
  errorResponse,
  meResponse,
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
    summary: 'Correct my email address or language',
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
    summary: 'Send the email again with a fresh code (rate-limited)',
    request: { params: taskIdParams },
    ok: { description: 'Who was sent a new code', ...json(z.object({ resentTo: z.array(z.string()) })) },
  });
  route({
    method: 'post',
    path: '/me/task/contactChange/{id}/cancel',
    summary: 'Cancel a pending task (the asker only)',
    request: { params: taskIdParams },
    ok: { description: 'The task', ...json(taskResponse) },
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
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: { title: 'Contacts API', version: '1.0', description: 'Contact-change requests for services' },
    servers: [{ url: apiBasePath }],
  });
}
