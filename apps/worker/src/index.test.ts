import { placeholder } from './index.js';
test('worker loads', () => { expect(placeholder).toBe(1); });
