import { placeholder } from './index.js';
test('pinn loads', () => { expect(placeholder).toBe(1); });
