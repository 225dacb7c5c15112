import { createHash } from 'node:crypto';

export const SIGNATURE_MAX_SKEW_S = 180;

/** The provider's request signature: "$1$" + sha1(secret+consumerKey+method+fullUrl+body+timestamp), joined by "+". */
export function ovhSignature(parts: {
  applicationSecret: string;
  consumerKey: string;
  method: string;
  url: string;
  body: string;
  timestamp: string | number;
}): string {
  const { applicationSecret, consumerKey, method, url, body, timestamp } = parts;
  const digest = createHash('sha1')
    .update([applicationSecret, consumerKey, method.toUpperCase(), url, body, String(timestamp)].join('+'))
    .digest('hex');
  return `$1$${digest}`;
}

/**
 * The origins a client may have signed for this API: the provider's official clients sign the full URL, but on a
 * port other than the scheme's default some leave the port out (the Node.js client signs "https://" + host) and
 * others keep it (the Python client signs its endpoint as written), so both forms are accepted.
 */
export function signedOrigins(baseUrls: string[]): string[] {
  return [
    ...new Set(
      baseUrls.flatMap((baseUrl) => {
        const url = new URL(baseUrl);
        return url.port ? [url.origin, `${url.protocol}//${url.hostname}`] : [url.origin];
      }),
    ),
  ];
}

export interface AccessRule {
  method: string;
  path: string;
}

/** Access rules of a consumer key: method (or ALL) and a path where * matches anything. */
export function ruleAllows(rules: AccessRule[], method: string, path: string): boolean {
  return rules.some((rule) => {
    const methodMatches = rule.method === 'ALL' || rule.method.toUpperCase() === method.toUpperCase();
    const pattern = new RegExp(`^${rule.path.split('*').map(escapeRegExp).join('.*')}$`);
    return methodMatches && pattern.test(path);
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
