// Test helpers of the workspace (the `@stellar-emu/grid-io/testing` subpath): closeness checks and the shared real-data folder.
export { assertAllClose, type CloseOptions } from './assert-close.js';
export { realDataDir } from './real-data.js';
