import { assertAllClose } from './assert-close.js';

test('assertAllClose passes within tolerance and reports the worst mismatch', () => {
  assertAllClose([1, 2, Number.NaN], [1 + 1e-9, 2, Number.NaN], { rtol: 1e-8 });
  assertAllClose([0, 1e-13], [1e-13, 0], { atol: 1e-12 });
  assertAllClose(new Float32Array([Number.POSITIVE_INFINITY, -1]), [Number.POSITIVE_INFINITY, -1]);
  assertAllClose(3, 3 + 1e-12, { rtol: 1e-9 });
  expect(() => assertAllClose([1, 2, 3, 4], [1, 2.1, 3, 4.5], { rtol: 0.01, label: 'T' })).toThrow(
    /^T: not close \(rtol=0\.01, atol=0\): 2 of 4 elements differ; worst at index 3: actual 4, expected 4\.5, \|diff\| 5\.000e-1, rel 1\.111e-1 \(11\.1x the tolerance\)$/,
  );
  expect(() => assertAllClose([Number.NaN], [1])).toThrow(/worst at index 0: actual NaN/);
  expect(() => assertAllClose([Number.NaN], [Number.NaN], { equalNan: false })).toThrow(
    /1 of 1 elements differ/,
  );
  expect(() => assertAllClose([1], [Number.POSITIVE_INFINITY], { rtol: 1 })).toThrow(
    /1 of 1 elements differ/,
  );
  expect(() => assertAllClose([1, 2], [1])).toThrow(/length mismatch/);
  expect(() => assertAllClose(1, 1.1)).toThrow(/tolerance 0|x the tolerance/);
  expect(() => assertAllClose([1], [1], { rtol: -1 })).toThrow(/tolerances must be >= 0/);
});
