// Test helpers of the workspace (the `@stellar-emu/grid-io/testing` subpath): the shared real-data folder and the pinned Python.
// (Closeness checks: `assertAllClose` from `@stellar-emu/numerics/testing`.)
export { realDataDir } from './real-data.js';
export { runPython, testPython } from './python.js';
