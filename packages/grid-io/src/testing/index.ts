// Test helpers of the workspace (the `@stellar-emu/grid-io/testing` subpath): closeness checks, the shared real-data folder and the pinned Python.
export { assertAllClose, type CloseOptions } from './assert-close.js';
export { realDataDir } from './real-data.js';
export { runPython, testPython } from './python.js';
