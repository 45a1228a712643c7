// Synchronous decoding of one row group's fixed-length flux lists into a Float32Array: moved to grid-io (shared with param-nn and the dataset reader).
export { decodeFluxRowGroup, fluxFile, type FluxDecodePath, type FluxFile } from '@stellar-emu/grid-io';
