import { placeholder } from './index.js';
test('grid-io loads', () => { expect(placeholder).toBe(1); });
