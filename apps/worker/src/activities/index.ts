// Activity implementations registered by the worker; their signatures live in @stellar-emu/workflows.
import type { Activities } from '@stellar-emu/workflows';
import { helloTensor } from './hello.js';
import {
  inputFingerprint,
  prepareDatasetStep,
  readTrainedFingerprint,
  splitDatasetStep,
  writeTrainedFingerprint,
} from './data.js';
import { finishTraining, findTrainedModel, trainChunk, trainingIdentity } from './train.js';
import { evaluateCvaeStep, evaluatePinnStep, generateReportStep, validateCvaeStep } from './evaluate.js';
import { assemblePinnSpectra, pinnSpectraBatch, pinnSunSpectra, planPinnSpectra } from './pinn-spectra.js';
import {
  assembleSpectrumGrid,
  checkSynthesisStep,
  planSpectrumGrid,
  synthesizeSpectrumBatch,
} from './synth.js';

/** All activities, checked against the interface the workflows proxy. */
export function createActivities(): Activities {
  return {
    helloTensor,
    prepareDatasetStep,
    splitDatasetStep,
    trainChunk,
    finishTraining,
    findTrainedModel,
    trainingIdentity,
    evaluatePinnStep,
    evaluateCvaeStep,
    validateCvaeStep,
    generateReportStep,
    inputFingerprint,
    readTrainedFingerprint,
    writeTrainedFingerprint,
    planSpectrumGrid,
    synthesizeSpectrumBatch,
    assembleSpectrumGrid,
    checkSynthesisStep,
    planPinnSpectra,
    pinnSpectraBatch,
    pinnSunSpectra,
    assemblePinnSpectra,
  };
}
