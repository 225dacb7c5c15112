/**
 * Where the portal may send the browser after login: a path of this origin only. The text is resolved the
 * way a browser resolves it (backslashes, tabs and newlines included: "/\evil.example/" and "/\t/evil.example/"
 * both mean //evil.example/), and anything that leaves the origin or starts with "//" gives undefined.
 */
export function safeNextPath(next: string, publicBaseUrl: string): string | undefined {
  const origin = new URL(publicBaseUrl).origin;
  if (!next.startsWith('/')) return undefined;
  let resolved: URL;
  try {
    resolved = new URL(next, origin);
  } catch {
    return undefined;
  }
  const path = `${resolved.pathname}${resolved.search}${resolved.hash}`;
  if (resolved.origin !== origin || !path.startsWith('/') || path.startsWith('//')) return undefined;
  return path;
}
