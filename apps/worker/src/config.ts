// Connection settings of a worker: address, namespace, TLS and API key from flags, then env
// (the resolution is shared with the CLI in @stellar-emu/workflows/connection).
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { connectionBasics, type TemporalConnectionConfig } from '@stellar-emu/workflows/connection';

export {
  describeConnection,
  localDevServerAddress,
  resolveTemporalConfig,
  type TemporalConnectionConfig,
  type TemporalConnectionFlags,
} from '@stellar-emu/workflows/connection';

/** Options for `NativeConnection.connect` (reads the PEM files). */
export function nativeConnectionOptions(config: TemporalConnectionConfig): NativeConnectionOptions {
  return connectionBasics(config);
}

/** Connect a worker to Temporal. */
export async function connectWorker(config: TemporalConnectionConfig): Promise<NativeConnection> {
  return NativeConnection.connect(nativeConnectionOptions(config));
}
