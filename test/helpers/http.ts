import request from 'supertest';
import { readCodeEmail } from '../../lib/mailbox';
import type { Stack } from './stack';
import { PASSWORD } from './fixtures';

export interface Session {
  handle: string;
  agent: ReturnType<typeof request.agent>;
  csrf: string;
  get(path: string): request.Test;
  post(path: string, body?: object): request.Test;
  put(path: string, body?: object): request.Test;
}

export async function login(stack: Stack, handle: string): Promise<Session> {
  const agent = request.agent(stack.app);
  const response = await agent.post('/auth/login').send({ handle, password: PASSWORD }).expect(200);
  const csrf = response.body.csrfToken as string;
  return {
    handle,
    agent,
    csrf,
    get: (path) => agent.get(path),
    post: (path, body) =>
      agent
        .post(path)
        .set('X-CSRF-Token', csrf)
        .send(body ?? {}),
    put: (path, body) =>
      agent
        .put(path)
        .set('X-CSRF-Token', csrf)
        .send(body ?? {}),
  };
}

/** Asks, as `session`, for `to` as the technical contact of a domain: the one task it opens. */
export async function askTechChange(session: Session, service: string, to: string): Promise<number> {
  const response = await session
    .post(`/1.0/domain/${service}/changeContact`, { contactTech: to })
    .expect(200);
  expect(response.body).toHaveLength(1);
  return response.body[0];
}

/** The code and link mailed to `handle` (at its fixture address) for the task, after mail `after`, as read by them. */
export function codeMailFor(stack: Stack, handle: string, taskId: number, after = 0) {
  return stack.mailbox
    .waitFor(
      (m) =>
        m.id > after && m.to.includes(`${handle}@mail.test`) && m.text.includes(`/validate/${taskId}#code=`),
    )
    .then(readCodeEmail);
}

/** Just the code of that mail. */
export async function codeFor(stack: Stack, handle: string, taskId: number): Promise<string> {
  return (await codeMailFor(stack, handle, taskId)).code;
}

/** The task as this person sees it once it has ended (the change is applied after the last accept's answer). */
export async function endedTask(stack: Stack, session: Session, id: number) {
  await stack.taskEnded(id);
  return (await session.get(`/1.0/me/task/contactChange/${id}`).expect(200)).body;
}

/** Changes the account's email the way a person does: PUT /1.0/me, then the token mailed to the new address. */
export async function changeEmail(stack: Stack, session: Session, email: string): Promise<void> {
  const mark = stack.mailbox.messages().length;
  expect((await session.put('/1.0/me', { email }).expect(200)).body.pendingEmail).toBe(email);
  await confirmEmailFromMail(stack, session, email, mark);
}

export async function confirmEmailFromMail(stack: Stack, session: Session, email: string, mark: number) {
  const mail = await stack.mailbox.waitFor((m) => m.id > mark && m.to.includes(email));
  const token = /confirmEmail=([\w-]+)/.exec(mail.text)![1];
  await session.post('/1.0/me/email/confirm', { token }).expect(200);
}
