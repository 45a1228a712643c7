import { placeholder } from './index.js';
test('param-nn loads', () => { expect(placeholder).toBe(1); });
