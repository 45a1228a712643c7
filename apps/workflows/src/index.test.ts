import * as workflows from './index.js';
import { isTaskQueue, TASK_QUEUES } from './index.js';

test('exports the hello workflow and the task queues', () => {
  expect(typeof workflows.hello).toBe('function');
  expect(TASK_QUEUES).toEqual({ cpu: 'cpu', gpu: 'gpu', synth: 'synth' });
  expect(isTaskQueue('gpu')).toBe(true);
  expect(isTaskQueue('tpu')).toBe(false);
});
