// Axis titles of the contract's labels (the report's presentation of them).
import type { PinnLabel, SpectrumLabel } from '@stellar-emu/metrics';

/** Axis title (name and unit) of every label. */
export const LABEL_INFO: Record<PinnLabel | SpectrumLabel, { label: string; unit: string }> = {
  teffK: { label: 'Teff', unit: 'K' },
  logg: { label: 'log g', unit: 'dex, g in cm s⁻²' },
  feh: { label: '[Fe/H]', unit: 'dex' },
  afe: { label: '[α/Fe]', unit: 'dex' },
  vsiniKms: { label: 'v sin i', unit: 'km s⁻¹' },
  mh: { label: '[M/H]', unit: 'dex' },
  vmicKms: { label: 'v_mic', unit: 'km s⁻¹' },
  resolution: { label: 'R = λ/Δλ', unit: 'dimensionless' },
};
