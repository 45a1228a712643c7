// Activity implementations registered by the worker; their signatures live in @stellar-emu/workflows.
import type { Activities } from '@stellar-emu/workflows';
import { helloTensor } from './hello.js';

/** All activities, checked against the interface the workflows proxy. */
export function createActivities(): Activities {
  return { helloTensor };
}
