import { placeholder } from './index.js';
test('workflows loads', () => { expect(placeholder).toBe(1); });
