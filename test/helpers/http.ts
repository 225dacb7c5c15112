import request from 'supertest';
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

/** Polls until the task reaches one of the states (the change is applied asynchronously after the last accept). */
export async function waitForState(session: Session, id: number, states: string[], timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const task = (await session.get(`/1.0/me/task/contactChange/${id}`).expect(200)).body;
    if (states.includes(task.state)) return task;
    if (Date.now() > until) throw new Error(`task ${id} is ${task.state}, not ${states.join('/')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
