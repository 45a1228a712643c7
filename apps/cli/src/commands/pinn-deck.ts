// The deck the CLI exports and synthesizes for a PINN prediction, with the model's provenance.
import { resolve } from 'node:path';
import type { KuruczDeck } from '@stellar-emu/grid-io';
import { predictedDeck, type PinnModelJson, type PredictedAtmosphere } from '@stellar-emu/pinn';
import { STELLAR_EMU_VERSION } from '../repo.js';

/**
 * A PINN prediction as the deck the CLI writes and synthesizes: the training grid's abundance mix
 * and PRADK ratio (model.json `deckDefaults`), and a TITLE naming stellar-emu's version, the
 * model and the first 12 hex digits of its weights' sha256.
 */
export function pinnDeck(p: PredictedAtmosphere, model: PinnModelJson, modelDir: string): KuruczDeck {
  return predictedDeck(p, {
    source: `stellar-emu:pinn:${resolve(modelDir)}`,
    defaults: model.deckDefaults,
    producer: `stellar-emu ${STELLAR_EMU_VERSION} PINN ${model.weights.sha256.slice(0, 12)}`,
  });
}
