// Locates the repository's pinned Python (numpy, pyarrow: `node tools/setup.mjs pysme`) for tests that check files against Python readers.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The Python interpreter of `<repo>/.tools/pysme/venv` (made by `node tools/setup.mjs pysme`;
 * it has numpy and pyarrow), or STELLAR_EMU_PYSME_PYTHON when set; null when absent. With
 * CI=true an absent interpreter is an error: CI must run the Python interoperability tests.
 */
export function testPython(): string | null {
  const override = process.env.STELLAR_EMU_PYSME_PYTHON;
  const python =
    override || fileURLToPath(new URL('../../../../.tools/pysme/venv/bin/python', import.meta.url));
  if (existsSync(python)) return python;
  if (process.env.CI === 'true')
    throw new Error(
      `Python for the interoperability tests not found at ${python} (CI=true: run \`node tools/setup.mjs pysme\` first)`,
    );
  return null;
}

/** Run `python args...`; resolves with stdout, rejects with stderr's tail on a non-zero exit. */
export function runPython(
  python: string,
  args: string[],
  opts: { timeoutMs?: number; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      python,
      args,
      {
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 << 20,
        cwd: opts.cwd,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(
              `${python} ${args.join(' ')} failed: ${err.message}\n${stderr.split('\n').slice(-30).join('\n')}`,
            ),
          );
        else resolve(stdout);
      },
    );
  });
}
