// synthesis: spectra from model atmospheres — PySME engine, atmosphere interpolation, broadening.
export * from './engine.js';
export * from './grid.js';
export * from './sources.js';
export * from './interpolate.js';
export * from './broaden.js';
export * from './observed.js';
export * from './emulated.js';
