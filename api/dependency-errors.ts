/**
 * Errors that mean a dependency (PostgreSQL, the Temporal server, or the workers behind an Update) is out of
 * reach for a moment, not that the request is wrong or the code broken: the API answers them 503 with
 * Retry-After, so that clients retry the same request (which is safe: requests converge on one task).
 */
export const RETRY_AFTER_SECONDS = 5;

// Prisma: can't reach, timed out, server closed the connection, pool timeout.
const PRISMA_UNREACHABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// Driver adapter error kinds that say the same.
const DRIVER_UNREACHABLE = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
// SQLSTATE: connection exceptions (08…), shutdown in progress (57P01–57P03), too many connections (53300).
const SQLSTATE_UNAVAILABLE = /^(08|57P0[1-3]|53300)/;
// gRPC: UNAVAILABLE (14) and DEADLINE_EXCEEDED (4), what the Temporal client reports while its server is down.
const GRPC_UNAVAILABLE = new Set([4, 14]);
const GRPC_FAILED_PRECONDITION = 9;
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
// Prisma's interactive transaction API; unavailable only when the transaction could not start in time.
const TRANSACTION_API_ERROR = 'P2028';
const TRANSACTION_NOT_STARTED = /Unable to start a transaction in the given time/;
// The Update's answer did not come in time: the workers that would run it are down or paused.
const UPDATE_TIMED_OUT = 'WorkflowUpdateRPCTimeoutOrCancelledError';

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string } } };
  cause?: unknown;
}

function saysUnavailable(error: ErrorLike): boolean {
  if (typeof error.code === 'string' && (PRISMA_UNREACHABLE.has(error.code) || SOCKET_ERRORS.has(error.code)))
    return true;
  if (typeof error.code === 'number' && GRPC_UNAVAILABLE.has(error.code)) return true;
  // An Update refused while the workflow's last task failed or timed out (a worker died holding it): the next
  // attempt, on another worker, lifts it.
  if (error.code === GRPC_FAILED_PRECONDITION && /Workflow Task in failed state/.test(String(error.message)))
    return true;
  if (error.name === UPDATE_TIMED_OUT) return true;
  // A transaction that could not get a connection in time: the pool is held by a database that is slow or coming
  // back (found by npm run soak at 2 stories/s: 38 answers of 500), as P2024 is for a single query.
  if (error.code === TRANSACTION_API_ERROR && TRANSACTION_NOT_STARTED.test(String(error.message)))
    return true;
  const driver = error.meta?.driverAdapterError?.cause;
  if (driver?.kind && DRIVER_UNREACHABLE.has(driver.kind)) return true;
  if (driver?.kind === 'postgres' && SQLSTATE_UNAVAILABLE.test(driver.code ?? '')) return true;
  // Raw queries (P2010) carry the driver's message only.
  return (
    typeof error.message === 'string' &&
    /Can't reach database server|Connection terminated/.test(error.message)
  );
}

export function isDependencyUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    if (saysUnavailable(current as ErrorLike)) return true;
    current = (current as ErrorLike).cause;
  }
  return false;
}
