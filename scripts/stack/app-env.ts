import { randomBytes } from 'node:crypto';

/**
 * The environment of the app's processes (workers, API) when a script runs the stack: the variables of
 * x-app-env in docker-compose.yml and nothing else, plus the overrides a script needs (shorter expiry…).
 */
export function appEnvironment(settings: {
  databaseUrl: string;
  temporalAddress: string;
  smtpPort: number;
  apiPort: number;
  overrides?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: settings.databaseUrl,
    TEMPORAL_ADDRESS: settings.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'contact-changes',
    SMTP_URL: `smtp://127.0.0.1:${settings.smtpPort}`,
    MAIL_FROM: 'Contacts <no-reply@contacts.localhost>',
    PUBLIC_BASE_URL: `http://127.0.0.1:${settings.apiPort}`,
    API_PORT: String(settings.apiPort),
    CODE_HASH_KEY: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    ...settings.overrides,
  };
}
