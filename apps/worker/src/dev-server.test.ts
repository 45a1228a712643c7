// The project's dev-server tooling (@stellar-emu/tools/temporal-server) on its own port and data folder:
// start, reuse, stop, and no process left behind.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  devServerStatus,
  findDevServerProcesses,
  portOpen,
  startDevServer,
  stopDevServer,
} from '@stellar-emu/tools/temporal-server';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
}

describe('temporal dev server tooling', () => {
  test('start is idempotent and stop leaves no process behind', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stellar-emu-temporal-'));
    const options = { port: await freePort(), uiPort: await freePort(), dataDir, log: () => {} };
    try {
      const first = await startDevServer(options);
      expect(first.reused).toBe(false);
      expect(first.pid).toBeGreaterThan(0);
      expect(first.address).toBe(`127.0.0.1:${options.port}`);
      expect(existsSync(join(dataDir, 'server.json'))).toBe(true);
      expect(existsSync(join(dataDir, 'temporal.sqlite'))).toBe(true);

      const second = await startDevServer(options);
      expect(second).toMatchObject({ reused: true, external: false, pid: first.pid });
      expect(findDevServerProcesses(first.dbFile).map((p) => p.pid)).toEqual([first.pid]);
      expect(await devServerStatus(options)).toMatchObject({ running: true, healthy: true, pid: first.pid });

      const stop = await stopDevServer(options);
      expect(stop.stopped.map((s) => s.pid)).toEqual([first.pid]);
      expect(pidAlive(first.pid!)).toBe(false);
      expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
      expect(await portOpen(options.port)).toBe(false);
      const pgrep = spawnSync('pgrep', ['-f', `server start-dev.*${first.dbFile}`], { encoding: 'utf8' });
      expect(pgrep.stdout.trim(), 'pgrep finds a dev server on this database').toBe('');
      expect(await devServerStatus(options)).toMatchObject({ running: false });

      expect((await stopDevServer(options)).stopped).toEqual([]);
    } finally {
      await stopDevServer(options).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a port taken by something that is not Temporal is reported, not reused', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stellar-emu-temporal-'));
    const blocker = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('not grpc\n');
    });
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(
        startDevServer({ port, uiPort: await freePort(), dataDir, log: () => {} }),
      ).rejects.toThrow(/not a Temporal server/);
    } finally {
      blocker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
