import 'express-serve-static-core';

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    rawBody?: Buffer;
    /** Set when the body was not valid UTF-8 (checked with every other input in api/valid-text.ts). */
    invalidUtf8?: boolean;
    account?: import('./auth/authenticate').AuthAccount;
    authScheme?: 'signature' | 'session';
    /** The portal session of the request, when authenticated by cookie. */
    sessionId?: number;
    sessionToken?: string;
    /** The consumer key of the request, when signed. */
    credentialId?: number;
  }
}
