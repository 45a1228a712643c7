import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundlerOptions, resolveWorkflowsPath } from './worker.js';

describe('worker', () => {
  test('bundles workflows from TypeScript source when running from source', () => {
    expect(resolveWorkflowsPath(true)).toMatch(/apps\/workflows\/src\/index\.ts$/);
    expect(resolveWorkflowsPath(false)).toMatch(/apps\/workflows\/dist\/index\.js$/);
  });

  test("Temporal's webpack resolves workspace packages through the @stellar-emu/source condition", async () => {
    const workflowsPath = fileURLToPath(new URL('../test/workflows-importing-workspace.ts', import.meta.url));
    const modules = (code: string) => new Set(code.match(/workflows\/(?:src|dist)\/task-queues\.(?:ts|js)/g));
    const withHook = await bundleWorkflowCode({ workflowsPath, ...bundlerOptions });
    expect(modules(withHook.code)).toEqual(new Set(['workflows/src/task-queues.ts']));
    // Without the hook webpack would take the built output (the `default` condition).
    const withoutHook = await bundleWorkflowCode({ workflowsPath });
    expect(modules(withoutHook.code)).toEqual(new Set(['workflows/dist/task-queues.js']));
  });
});
