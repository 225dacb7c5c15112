import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '../lib/logger';
import { isDependencyUnavailable, RETRY_AFTER_SECONDS } from './dependency-errors';

/** The provider's error style: `{ class, message }`, plus a stable reason code and the request id. */
const CLASS_BY_STATUS: Record<number, string> = {
  400: 'Client::BadRequest',
  401: 'Client::Unauthorized',
  403: 'Client::Forbidden',
  404: 'Client::NotFound',
  405: 'Client::MethodNotAllowed',
  409: 'Client::Conflict',
  413: 'Client::BadRequest::PayloadTooLarge',
  415: 'Client::BadRequest::UnsupportedMediaType',
  422: 'Client::BadRequest::Unprocessable',
  429: 'Client::TooManyRequests',
  500: 'Server::InternalServerError',
  503: 'Server::ServiceUnavailable',
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const notFound = (what = 'This resource does not exist') => new ApiError(404, 'notFound', what);

/** The same answer for a service that does not exist and one the account has no role on: nothing leaks. */
export const serviceNotFound = () =>
  notFound('This service does not exist or you are not one of its contacts');

export function errorBody(status: number, reason: string, message: string, requestId?: string) {
  return { class: CLASS_BY_STATUS[status] ?? 'Client::Error', message, reason, requestId };
}

function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'body';
      return issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.join(', ')}`
        : `${where}: ${issue.message}`;
    })
    .join('; ');
}

interface BodyParserError {
  type?: string;
  status?: number;
}

function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return new ApiError(400, 'invalidInput', describeZodError(error));
  const parserError = error as BodyParserError;
  if (parserError?.type === 'entity.parse.failed')
    return new ApiError(400, 'malformedJson', 'The body is not valid JSON');
  if (parserError?.type === 'entity.too.large')
    return new ApiError(413, 'bodyTooLarge', 'The body is too large');
  if (parserError?.type === 'charset.unsupported' || parserError?.type === 'encoding.unsupported') {
    return new ApiError(415, 'unsupportedEncoding', 'Unsupported body encoding');
  }
  if (parserError?.status && parserError.status >= 400 && parserError.status < 500) {
    return new ApiError(parserError.status, 'badRequest', 'The request could not be read');
  }
  if (isDependencyUnavailable(error))
    return new ApiError(
      503,
      'dependencyUnavailable',
      'A service we depend on is unavailable: try again shortly',
    );
  return undefined;
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const apiError = toApiError(error);
    if (apiError) {
      // An answer that knows the exact wait says it (a resend asked too soon); every 503 says when to try again,
      // since sending the same request again is safe (it converges on one task).
      const { retryAfterSeconds } = apiError.extra;
      const wait =
        typeof retryAfterSeconds === 'number'
          ? retryAfterSeconds
          : apiError.status === 503
            ? RETRY_AFTER_SECONDS
            : undefined;
      if (wait !== undefined) res.setHeader('Retry-After', String(wait));
      res.status(apiError.status).json({
        ...errorBody(apiError.status, apiError.reason, apiError.message, req.requestId),
        ...apiError.extra,
      });
      return;
    }
    logger.error(
      { err: error, requestId: req.requestId, method: req.method, path: req.path },
      'request failed',
    );
    res.status(500).json(errorBody(500, 'internalError', 'An internal error occurred', req.requestId));
  };
}

export const routeNotFound: RequestHandler = (req, res) => {
  res.status(404).json(errorBody(404, 'routeNotFound', `No route ${req.method} ${req.path}`, req.requestId));
};
