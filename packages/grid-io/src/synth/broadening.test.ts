import { besselJ1, rotationKernelCdf, rotationKernelTransfer } from './broadening.js';

describe('broadening kernels', () => {
  it('J1 matches tabulated values (1e-7)', () => {
    // Abramowitz & Stegun table 9.1
    for (const [x, j1] of [
      [0.5, 0.2422684577],
      [1, 0.4400505857],
      [2, 0.5767248078],
      [5, -0.3275791376],
      [10, 0.0434727462],
      [20, 0.0668331242],
    ]) {
      expect(Math.abs(besselJ1(x) - j1)).toBeLessThan(1e-7);
    }
  });

  it('the analytic rotation transfer is the Fourier transform of the kernel (numerical quadrature, 1e-6)', () => {
    for (const eps of [0, 0.6, 1]) {
      for (const omega of [0, 0.005, 0.3, 2, 7.5, 20]) {
        // integral of G(u) cos(omega u) du over [-1, 1] via the CDF (midpoint rule in dF)
        const n = 20000;
        let acc = 0;
        for (let i = 0; i < n; i++) {
          const a = -1 + (2 * i) / n,
            b = a + 2 / n;
          acc += (rotationKernelCdf(b, eps) - rotationKernelCdf(a, eps)) * Math.cos(omega * 0.5 * (a + b));
        }
        expect(Math.abs(rotationKernelTransfer(omega, eps) - acc)).toBeLessThan(1e-6);
      }
    }
  });
});
