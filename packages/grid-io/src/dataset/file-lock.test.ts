// withFileLock: mutual exclusion, touching while held, and breaking the locks of dead or silent holders.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive, withFileLock } from './file-lock.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'file-lock-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('withFileLock', () => {
  it('holders of one lock never overlap; the lock names its holder while held and is gone after', async () => {
    const lock = join(root, 'a.lock');
    let inside = 0;
    let most = 0;
    let waits = 0;
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        withFileLock(
          lock,
          async () => {
            inside++;
            most = Math.max(most, inside);
            expect(JSON.parse(await readFile(lock, 'utf8'))).toEqual({
              host: hostname(),
              pid: process.pid,
              token: expect.stringMatching(/^[0-9a-f]{16}$/),
            });
            await sleep(15);
            inside--;
            return i;
          },
          { staleMs: 10_000, retryMs: [5, 10], onWait: () => waits++ },
        ),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3]);
    expect(most).toBe(1);
    expect(waits).toBeGreaterThan(0);
    await expect(stat(lock)).rejects.toThrow(/ENOENT/);
  });

  it('is released when the holder throws', async () => {
    const lock = join(root, 'b.lock');
    await expect(
      withFileLock(lock, async () => Promise.reject(new Error('boom')), { staleMs: 1000 }),
    ).rejects.toThrow('boom');
    await expect(stat(lock)).rejects.toThrow(/ENOENT/);
  });

  it('breaks the lock of a dead process of this host at once, and an untouched one after staleMs', async () => {
    const dead = join(root, 'dead.lock');
    await writeFile(dead, `${JSON.stringify({ host: hostname(), pid: deadPid() })}\n`);
    const t0 = Date.now();
    expect(await withFileLock(dead, async () => 'got it', { staleMs: 60_000, retryMs: [5, 10] })).toBe(
      'got it',
    );
    expect(Date.now() - t0).toBeLessThan(5_000);

    // A live holder elsewhere (another host): only its silence makes the lock stale. An old
    // lock file holding just a pid (the swap locks of earlier versions) is judged by age too.
    for (const owner of [JSON.stringify({ host: 'elsewhere.invalid', pid: process.pid }), `${process.pid}`]) {
      const quiet = join(root, 'quiet.lock');
      await writeFile(quiet, `${owner}\n`);
      const old = new Date(Date.now() - 5_000);
      await utimes(quiet, old, old);
      expect(await withFileLock(quiet, async () => 'broken', { staleMs: 1_000, retryMs: [5, 10] })).toBe(
        'broken',
      );
    }
  });

  // (The cross-process interleaving that made two breakers both hold the lock — one removing the
  // other's fresh file as "the stale one" — does not reproduce in one process; this checks that
  // breaking by identity keeps one holder at a time and leaves nothing behind.)
  it('many waiters that find one stale lock at once: one holder at a time, nothing left after', async () => {
    for (let round = 0; round < 3; round++) {
      const lock = join(root, `stale-race-${round}.lock`);
      await writeFile(lock, `${JSON.stringify({ host: hostname(), pid: deadPid() })}\n`);
      let inside = 0;
      let most = 0;
      const done = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          withFileLock(
            lock,
            async () => {
              inside++;
              most = Math.max(most, inside);
              await sleep(10);
              inside--;
              return i;
            },
            { staleMs: 60_000, retryMs: [1, 3] },
          ),
        ),
      );
      expect(done).toHaveLength(8);
      expect(most).toBe(1);
      await expect(stat(lock)).rejects.toThrow(/ENOENT/);
    }
  });

  it('a holder whose lock was broken (it was silent for longer than staleMs) does not remove its successor’s lock', async () => {
    const lock = join(root, 'successor.lock');
    let successorSaw = '';
    await withFileLock(
      lock,
      async () => {
        // Made to look silent: the successor breaks the lock and holds it while this holder ends.
        const old = new Date(Date.now() - 10_000);
        await utimes(lock, old, old);
        await new Promise<void>((resolve) => {
          void withFileLock(
            lock,
            async () => {
              resolve();
              await sleep(100);
              successorSaw = await readFile(lock, 'utf8').catch(() => 'gone');
            },
            { staleMs: 1_000, retryMs: [1, 3] },
          );
        });
      },
      { staleMs: 1_000 },
    );
    await sleep(200);
    expect(successorSaw).toContain(String(process.pid));
  });

  it('waits for a live holder until timeoutMs, then fails naming the lock', async () => {
    const lock = join(root, 'held.lock');
    await writeFile(lock, `${JSON.stringify({ host: hostname(), pid: process.pid })}\n`);
    await expect(
      withFileLock(lock, async () => 'never', { staleMs: 60_000, retryMs: [5, 10], timeoutMs: 100 }),
    ).rejects.toThrow(/held\.lock: another process has held this lock for more than 0\.1 s/);
    await rm(lock);
  });

  it('the holder touches the lock every touchMs, so a long hold is not broken', async () => {
    const lock = join(root, 'long.lock');
    let second = '';
    let waiter: Promise<string> | null = null;
    await withFileLock(
      lock,
      async () => {
        // Longer than staleMs: without the touches the waiter would break the lock.
        waiter = withFileLock(lock, async () => (second = 'after'), { staleMs: 150, retryMs: [5, 10] });
        await sleep(400);
        expect(second).toBe('');
      },
      { staleMs: 150, touchMs: 30 },
    );
    expect(await waiter).toBe('after');
  });
});

test('pidAlive: this process and a running one are alive, an exited one is not', () => {
  expect(pidAlive(process.pid)).toBe(true);
  expect(pidAlive(process.ppid)).toBe(true);
  expect(pidAlive(deadPid())).toBe(false);
});
