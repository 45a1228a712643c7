import {
  ATOMIC_MASS_UNIT_G,
  BOLTZMANN_ERG_K,
  ELECTRON_MASS_G,
  ELECTRON_VOLT_ERG,
  GRAVITATIONAL_CONSTANT_CM3_G_S2,
  HYDROGEN_ATOM_MASS_G,
  KELVIN_PER_ELECTRON_VOLT,
  PLANCK_ERG_S,
  PROTON_MASS_G,
  SAHA_CONSTANT_CM3_K32,
  SPEED_OF_LIGHT_CM_S,
  SPEED_OF_LIGHT_KM_S,
  STEFAN_BOLTZMANN_ERG_CM2_S_K4,
} from './constants.js';

const rel = (a: number, b: number) => Math.abs(a / b - 1);

test('CODATA 2018 values in cgs (SI values × the cgs factors)', () => {
  expect(SPEED_OF_LIGHT_CM_S).toBe(299_792_458 * 100);
  expect(SPEED_OF_LIGHT_KM_S).toBe(299_792.458);
  expect(PLANCK_ERG_S).toBe(6.62607015e-27);
  expect(BOLTZMANN_ERG_K).toBe(1.380649e-16);
  expect(ELECTRON_VOLT_ERG).toBe(1.602176634e-12);
  expect(STEFAN_BOLTZMANN_ERG_CM2_S_K4).toBe(5.670374419e-5);
  expect(GRAVITATIONAL_CONSTANT_CM3_G_S2).toBe(6.6743e-8);
  expect(ELECTRON_MASS_G).toBe(9.1093837015e-28);
  expect(PROTON_MASS_G).toBe(1.67262192369e-24);
  expect(ATOMIC_MASS_UNIT_G).toBe(1.6605390666e-24);
});

test('derived constants agree with their definitions', () => {
  // sigma = 2 pi^5 k^4 / (15 h^3 c^2): exact in SI 2019, CODATA rounds it to 10 digits.
  const sigma =
    (2 * Math.PI ** 5 * BOLTZMANN_ERG_K ** 4) / (15 * PLANCK_ERG_S ** 3 * SPEED_OF_LIGHT_CM_S ** 2);
  expect(rel(STEFAN_BOLTZMANN_ERG_CM2_S_K4, sigma)).toBeLessThan(1e-10);
  expect(rel(KELVIN_PER_ELECTRON_VOLT, 11_604.518_12)).toBeLessThan(1e-9);
  expect(rel(SAHA_CONSTANT_CM3_K32, 2.414_683e15)).toBeLessThan(1e-6);
  // m(1H) = m_p + m_e - 13.6 eV / c^2.
  const binding = (13.598_434 * ELECTRON_VOLT_ERG) / SPEED_OF_LIGHT_CM_S ** 2;
  expect(rel(HYDROGEN_ATOM_MASS_G, PROTON_MASS_G + ELECTRON_MASS_G - binding)).toBeLessThan(1e-9);
});
