import { placeholder } from './index.js';
test('cvae loads', () => { expect(placeholder).toBe(1); });
