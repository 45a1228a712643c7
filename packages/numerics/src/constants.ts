// Physical constants: the workspace's one set, CODATA 2018, in cgs, with the unit in every name.
//
// Exact values (SI 2019 defining constants, converted to cgs) are written out in full; measured
// ones with all the digits CODATA 2018 recommends. Derived constants are computed from these, so
// they stay consistent. Keep this file free of model parameters (opacity laws, abundances, ...).

/** Speed of light in vacuum c, cm s⁻¹ (exact). */
export const SPEED_OF_LIGHT_CM_S = 2.99792458e10;
/** Speed of light in vacuum c, km s⁻¹ (exact; = {@link SPEED_OF_LIGHT_CM_S} / 1e5, 299792.458). */
export const SPEED_OF_LIGHT_KM_S = SPEED_OF_LIGHT_CM_S / 1e5;
/** Planck constant h, erg s (exact). */
export const PLANCK_ERG_S = 6.62607015e-27;
/** Boltzmann constant k, erg K⁻¹ (exact). */
export const BOLTZMANN_ERG_K = 1.380649e-16;
/** One electron volt, erg (exact: e × 1 V = 1.602176634e-19 J). */
export const ELECTRON_VOLT_ERG = 1.602176634e-12;
/**
 * Stefan–Boltzmann constant σ = 2π⁵k⁴/(15h³c²), erg cm⁻² s⁻¹ K⁻⁴ (exact in SI 2019; CODATA 2018
 * value 5.670374419e-8 W m⁻² K⁻⁴, to the digits CODATA gives).
 */
export const STEFAN_BOLTZMANN_ERG_CM2_S_K4 = 5.670374419e-5;
/** Newtonian constant of gravitation G, cm³ g⁻¹ s⁻² (CODATA 2018: 6.67430(15)e-11 m³ kg⁻¹ s⁻²). */
export const GRAVITATIONAL_CONSTANT_CM3_G_S2 = 6.6743e-8;
/** Electron mass m_e, g (CODATA 2018). */
export const ELECTRON_MASS_G = 9.1093837015e-28;
/** Proton mass m_p, g (CODATA 2018). */
export const PROTON_MASS_G = 1.67262192369e-24;
/** Atomic mass constant m_u = 1 u (unified atomic mass unit), g (CODATA 2018). */
export const ATOMIC_MASS_UNIT_G = 1.6605390666e-24;
/** Relative atomic mass of ¹H, A_r(¹H) (the value of the CODATA 2018 adjustment, AME2016). */
export const HYDROGEN_ATOM_MASS_U = 1.00782503223;
/** Mass of a ¹H atom, g: A_r(¹H) m_u. */
export const HYDROGEN_ATOM_MASS_G = HYDROGEN_ATOM_MASS_U * ATOMIC_MASS_UNIT_G;

/** Temperature equivalent of one electron volt, K eV⁻¹: 1 eV / k (11604.518...). */
export const KELVIN_PER_ELECTRON_VOLT = ELECTRON_VOLT_ERG / BOLTZMANN_ERG_K;
/**
 * Saha constant (2π m_e k / h²)^{3/2}, cm⁻³ K^{-3/2} (2.41468...e15): the electron-pressure-free
 * prefactor of the Saha equation, n_e n⁺/n⁰ = (2 g⁺/g⁰) SAHA T^{3/2} exp(−χ/kT).
 */
export const SAHA_CONSTANT_CM3_K32 =
  ((2 * Math.PI * ELECTRON_MASS_G * BOLTZMANN_ERG_K) / (PLANCK_ERG_S * PLANCK_ERG_S)) ** 1.5;
