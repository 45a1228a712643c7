// End to end on the real dev server (started by the project's tooling in test/global-setup.ts):
// client -> hello workflow -> this worker's activity -> tfjs through nn-core -> result.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { hello } from '@stellar-emu/workflows';
import { createWorker, resolveWorkflowsPath } from './worker.js';
import { seededMatrix } from './activities/hello.js';
import { frobeniusOfProduct } from '../test/reference.js';

const historyFile = fileURLToPath(new URL('../test/histories/hello.json', import.meta.url));

describe('hello on the real Temporal dev server', () => {
  const address = inject('temporalAddress');
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `hello-e2e-${randomUUID()}`;

  beforeAll(async () => {
    nativeConnection = await NativeConnection.connect({ address });
    connection = await Connection.connect({ address });
    worker = await createWorker({ connection: nativeConnection, taskQueue });
    running = worker.run();
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await connection?.close();
    await nativeConnection?.close();
  });

  test('the workflow runs its activity on the worker and returns ||A·B||_F', async () => {
    expect(resolveWorkflowsPath()).toMatch(/apps\/workflows\/src\/index\.ts$/);
    const client = new Client({ connection, namespace: 'default' });
    const workflowId = `hello-e2e-${randomUUID()}`;
    const handle = await client.workflow.start(hello, {
      taskQueue,
      workflowId,
      args: [{ name: 'e2e', size: 32, seed: 7 }],
    });
    const result = await handle.result();

    expect(result.greeting).toBe('hello e2e');
    expect(result.workflowId).toBe(workflowId);
    expect(result.tensor.backend).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/);
    if (process.env.CI === 'true') expect(result.tensor.backend).toBe('tensorflow');
    const expected = frobeniusOfProduct(seededMatrix(32, 7), seededMatrix(32, 8), 32);
    expect(Math.abs(result.tensor.frobeniusNorm - expected) / expected).toBeLessThan(1e-5);

    const history = await handle.fetchHistory();
    const types = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    expect(types).toEqual(['helloTensor']);
    if (process.env.STELLAR_EMU_RECORD_HISTORY === '1') {
      await writeFile(historyFile, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
    }
  });
});
