import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The Temporal server's dynamic configuration, one file for every server the project starts
 * (docker/temporal/dynamicconfig.yaml). TEMPORAL_DYNAMIC_CONFIG_FILE replaces it, to compare (an empty file: the
 * server's defaults).
 */
export function temporalDynamicConfigFile(): string {
  return (
    process.env.TEMPORAL_DYNAMIC_CONFIG_FILE ??
    join(__dirname, '..', 'docker', 'temporal', 'dynamicconfig.yaml')
  );
}

type DynamicConfig = Record<string, { value: unknown; constraints?: Record<string, unknown> }[]>;

/** The same values as `temporal server start-dev` flags (the dev server reads no dynamic config file). */
export function devServerDynamicConfigFlags(file = temporalDynamicConfigFile()): string[] {
  const config = (parse(readFileSync(file, 'utf8')) ?? {}) as DynamicConfig;
  return Object.entries(config).flatMap(([key, values]) => {
    const unconstrained = values.filter((v) => Object.keys(v.constraints ?? {}).length === 0);
    if (unconstrained.length !== 1 || values.length !== 1)
      throw new Error(`${file}: ${key} needs exactly one value without constraints (the dev server's flags)`);
    return ['--dynamic-config-value', `${key}=${JSON.stringify(unconstrained[0].value)}`];
  });
}
