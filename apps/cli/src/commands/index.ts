// Registry of sub-commands. Each module exports `register(program)`; add one line per module.
import type { Command } from 'commander';
import { register as registerBackend } from './backend.js';

export function registerCommands(program: Command): void {
  registerBackend(program);
}
