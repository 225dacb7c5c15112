import request from 'supertest';
import { ovhSignature } from '../../api/auth/signature';
import type { Session } from '../helpers/http';
import type { Stack } from '../helpers/stack';

export interface Credentials {
  applicationKey: string;
  applicationSecret: string;
  consumerKey: string;
}

export async function createApplication(owner: Session, name = 'a script') {
  return (
    await owner.post('/1.0/me/api/application', { name, description: `${name}, for tests` }).expect(201)
  ).body as { applicationId: number; applicationKey: string; applicationSecret: string };
}

/** POST /1.0/auth/credential as a script does: answers the consumer key and the validation token. */
export async function requestCredential(
  stack: Stack,
  applicationKey: string,
  accessRules: { method: string; path: string }[],
  redirection?: string,
) {
  const answer = (
    await request(stack.app)
      .post('/1.0/auth/credential')
      .set('X-Ovh-Application', applicationKey)
      .send({ accessRules, ...(redirection ? { redirection } : {}) })
      .expect(200)
  ).body as { validationUrl: string; consumerKey: string; state: string };
  return { ...answer, token: new URL(answer.validationUrl).pathname.split('/').pop()! };
}

/** A key validated by `person` for the rules, valid one day. */
export async function grantedKey(
  stack: Stack,
  person: Session,
  rules: { method: string; path: string }[],
): Promise<Credentials> {
  const application = await createApplication(person);
  const pending = await requestCredential(stack, application.applicationKey, rules);
  await person.post(`/1.0/auth/credential/${pending.token}/validate`, { validity: '1d' }).expect(200);
  return { ...application, consumerKey: pending.consumerKey };
}

export function signed(
  stack: Stack,
  creds: Credentials,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: object,
) {
  const timestamp = Math.floor(Date.now() / 1000);
  const text = body === undefined ? '' : JSON.stringify(body);
  const signature = ovhSignature({
    applicationSecret: creds.applicationSecret,
    consumerKey: creds.consumerKey,
    method,
    url: `${stack.config.PUBLIC_BASE_URL}${path}`,
    body: text,
    timestamp,
  });
  const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
  const agent = request(stack.app);
  const req = agent[verb](path)
    .set('X-Ovh-Application', creds.applicationKey)
    .set('X-Ovh-Consumer', creds.consumerKey)
    .set('X-Ovh-Timestamp', String(timestamp))
    .set('X-Ovh-Signature', signature);
  return text ? req.set('Content-Type', 'application/json').send(text) : req;
}
