import { placeholder } from './index.js';
test('cli loads', () => { expect(placeholder).toBe(1); });
