import type { z } from 'zod';
import type { accessRuleSchema } from '../api/schemas';
import { t } from './core';

export type AccessRule = z.infer<typeof accessRuleSchema>;

/** An access rule in words: "read /me", "do anything on everything in your account". */
export const ruleInWords = (rule: AccessRule) =>
  `${t(`method_${rule.method}`)} ${rule.path === '/*' || rule.path === '*' ? t('pathEverything') : rule.path}`;
