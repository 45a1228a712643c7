// Stable content ids: sha256 of a record's labels and arrays, independent of where the record came from.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ATMOSPHERE_QUANTITIES, type AtmosphereModel, type SpectrumRecord } from '../types.js';

function updateNumbers(h: ReturnType<typeof createHash>, values: ArrayLike<number>): void {
  const buf = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) buf[i] = values[i];
  h.update(new Uint8Array(buf.buffer));
}

/**
 * Content id (64 hex digits) of an atmosphere: sha256 over teffK, logg, mh, feh, afe, vturbKms
 * and the six depth quantities as little-endian float64. Source and line do not enter, so the
 * same model read from two places has the same id.
 */
export function atmosphereContentId(m: Omit<AtmosphereModel, 'id'>): string {
  const h = createHash('sha256');
  h.update('atm1');
  updateNumbers(h, [m.teffK, m.logg, m.mh, m.feh, m.afe, m.vturbKms ?? Number.NaN, m.nLayers]);
  for (const q of ATMOSPHERE_QUANTITIES) updateNumbers(h, m[q]);
  return h.digest('hex');
}

/** Content id (64 hex digits) of a spectrum: sha256 over its sorted labels, wavelength grid and flux. */
export function spectrumContentId(r: Omit<SpectrumRecord, 'id'>): string {
  const h = createHash('sha256');
  h.update('spec1');
  const keys = Object.keys(r.labels).sort();
  h.update(keys.join(','));
  updateNumbers(
    h,
    keys.map((k) => r.labels[k]),
  );
  updateNumbers(h, [r.wavelengthStartAngstrom, r.wavelengthStepAngstrom, r.flux.length]);
  updateNumbers(h, r.flux);
  return h.digest('hex');
}

/** sha256 (64 hex digits) of bytes, or of a string's UTF-8 bytes. The one whole-value hash of the project. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 (64 hex digits) of a file's bytes, streamed. The one file hash of the project. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
