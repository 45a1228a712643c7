import { placeholder } from './index.js';
test('report loads', () => { expect(placeholder).toBe(1); });
