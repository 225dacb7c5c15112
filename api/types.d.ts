import 'express-serve-static-core';

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    rawBody?: Buffer;
    account?: import('./auth/authenticate').AuthAccount;
    authScheme?: 'signature' | 'session';
  }
}
