import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** DKIM signing of outgoing mail, as nodemailer takes it. */
export interface DkimSigning {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

interface DkimVariables {
  DKIM_DOMAIN?: string;
  DKIM_SELECTOR?: string;
  DKIM_PRIVATE_KEY?: string;
  DKIM_PRIVATE_KEY_FILE?: string;
}

/**
 * The signing configuration from DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (PEM, `\n` allowed for line
 * breaks) or DKIM_PRIVATE_KEY_FILE; none of them: mail goes out unsigned (the local mailbox, a relay that signs).
 * Half a configuration, an unreadable file or a key that is not a private key is refused at start-up.
 */
export function dkimSigning(variables: DkimVariables, ctx: z.core.$RefinementCtx): DkimSigning | undefined {
  const { DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY, DKIM_PRIVATE_KEY_FILE } = variables;
  if (!DKIM_DOMAIN && !DKIM_SELECTOR && !DKIM_PRIVATE_KEY && !DKIM_PRIVATE_KEY_FILE) return undefined;
  const problem = (path: string, message: string) => {
    ctx.addIssue({ code: 'custom', path: [path], message });
    return undefined;
  };
  if (!DKIM_DOMAIN) return problem('DKIM_DOMAIN', 'is needed to sign mail with DKIM');
  if (!DKIM_SELECTOR) return problem('DKIM_SELECTOR', 'is needed to sign mail with DKIM');
  if (!DKIM_PRIVATE_KEY === !DKIM_PRIVATE_KEY_FILE)
    return problem(
      'DKIM_PRIVATE_KEY',
      'or DKIM_PRIVATE_KEY_FILE (one of them) is needed to sign mail with DKIM',
    );
  let privateKey = DKIM_PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (DKIM_PRIVATE_KEY_FILE) {
    try {
      privateKey = readFileSync(DKIM_PRIVATE_KEY_FILE, 'utf8');
    } catch (error) {
      return problem('DKIM_PRIVATE_KEY_FILE', `cannot be read (${(error as NodeJS.ErrnoException).code})`);
    }
  }
  const keyVariable = DKIM_PRIVATE_KEY_FILE ? 'DKIM_PRIVATE_KEY_FILE' : 'DKIM_PRIVATE_KEY';
  try {
    const key = createPrivateKey(privateKey!);
    if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ed25519')
      return problem(keyVariable, 'must be an RSA or Ed25519 private key');
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 1024)
      return problem(keyVariable, 'must be an RSA key of at least 1024 bits (2048 recommended)');
  } catch {
    return problem(keyVariable, 'is not a private key in PEM form');
  }
  return { domainName: DKIM_DOMAIN, keySelector: DKIM_SELECTOR, privateKey: privateKey! };
}
