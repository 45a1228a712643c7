import { placeholder } from './index.js';
test('nn-core loads', () => { expect(placeholder).toBe(1); });
