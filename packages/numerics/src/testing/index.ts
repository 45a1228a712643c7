// Test helpers (the `@stellar-emu/numerics/testing` subpath): closeness checks with stated tolerances.
export { assertAllClose, type CloseOptions } from './assert-close.js';
