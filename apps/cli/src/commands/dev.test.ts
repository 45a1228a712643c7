// `stellar-emu dev start|status|stop` on its own port and data folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  devServerConfig,
  findDevServerProcesses,
  testDevServerConfig,
} from '@stellar-emu/tools/temporal-server';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

test('dev start reuses a running server and dev stop leaves no process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stellar-emu-dev-'));
  const port = String(20000 + (process.pid % 20000));
  const env = {
    ...process.env,
    STELLAR_EMU_TEMPORAL_PORT: port,
    STELLAR_EMU_TEMPORAL_UI_PORT: String(Number(port) + 1),
    STELLAR_EMU_TEMPORAL_DATA_DIR: dataDir,
  };
  const dev = (cmd: string) =>
    spawnSync(process.execPath, [cli, 'dev', cmd, '--json'], { encoding: 'utf8', env });
  try {
    const first = dev('start');
    expect(first.status, first.stderr).toBe(0);
    const started = JSON.parse(first.stdout);
    expect(started).toMatchObject({ reused: false, address: `127.0.0.1:${port}` });
    const again = JSON.parse(dev('start').stdout);
    expect(again).toMatchObject({ reused: true, pid: started.pid });
    expect(JSON.parse(dev('status').stdout)).toMatchObject({
      running: true,
      healthy: true,
      pid: started.pid,
    });

    const stop = dev('stop');
    expect(stop.status, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout).stopped.map((p: { pid: number }) => p.pid)).toEqual([started.pid]);
    expect(findDevServerProcesses(started.dbFile)).toEqual([]);
    const status = dev('status');
    expect(status.status).toBe(3);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false });
  } finally {
    dev('stop');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("the tests' dev server is never the pipelines' one (fixed task queues would mix their work)", () => {
  const saved = process.env.STELLAR_EMU_TEMPORAL_PORT;
  for (const port of [undefined, '7243']) {
    if (port === undefined) delete process.env.STELLAR_EMU_TEMPORAL_PORT;
    else process.env.STELLAR_EMU_TEMPORAL_PORT = port;
    const user = devServerConfig();
    const tests = testDevServerConfig();
    expect(tests.address).not.toBe(user.address);
    expect(tests.uiPort).not.toBe(user.uiPort);
    expect(tests.dbFile).not.toBe(user.dbFile);
  }
  if (saved === undefined) delete process.env.STELLAR_EMU_TEMPORAL_PORT;
  else process.env.STELLAR_EMU_TEMPORAL_PORT = saved;
});
