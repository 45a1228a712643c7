// Temporal connection for CLI commands: address, namespace, TLS and API key from flags, then env
// (the resolution is shared with the worker in @stellar-emu/workflows/connection).
import type { Command } from 'commander';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import {
  connectionBasics,
  resolveTemporalConfig,
  type TemporalConnectionConfig,
  type TemporalConnectionFlags,
} from '@stellar-emu/workflows/connection';
import { loadDevServerTools } from './repo.js';

export {
  localDevServerAddress,
  resolveTemporalConfig,
  type TemporalConnectionConfig,
  type TemporalConnectionFlags,
} from '@stellar-emu/workflows/connection';

/** Add --address, --namespace, --tls-cert, --tls-key, --tls-ca and --api-key to a command. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option(
      '--address <host:port>',
      'Temporal frontend (env TEMPORAL_ADDRESS; default: the local dev server, started if needed)',
    )
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default "default")')
    .option('--tls-cert <pem>', 'mTLS client certificate (env TEMPORAL_TLS_CERT)')
    .option('--tls-key <pem>', 'mTLS client key (env TEMPORAL_TLS_KEY)')
    .option('--tls-ca <pem>', 'server root CA (env TEMPORAL_TLS_CA)')
    .option('--api-key <key>', 'API key, e.g. for Temporal Cloud (env TEMPORAL_API_KEY)');
}

/**
 * The connection the flags name; when they name none, the local dev server, started (and said so
 * on stderr) if it is not running.
 */
export async function resolveConnection(opts: TemporalConnectionFlags): Promise<TemporalConnectionConfig> {
  const config = resolveTemporalConfig(opts);
  if (config.localDevServer) {
    const server = await (await loadDevServerTools()).startDevServer();
    config.address = server.address;
    if (!server.reused)
      process.stderr.write(
        `started the Temporal dev server at ${server.address} ('stellar-emu dev stop' stops it)\n`,
      );
  }
  return config;
}

/** Options for `Connection.connect` (reads the PEM files). */
export function connectionOptions(config: TemporalConnectionConfig): ConnectionOptions {
  return connectionBasics(config);
}

/** The flags to hand the same connection to a worker process. */
export function workerConnectionArgs(config: TemporalConnectionConfig): string[] {
  const args = ['--address', config.address, '--namespace', config.namespace];
  if (config.tls?.clientCertPath) args.push('--tls-cert', config.tls.clientCertPath);
  if (config.tls?.clientKeyPath) args.push('--tls-key', config.tls.clientKeyPath);
  if (config.tls?.caPath) args.push('--tls-ca', config.tls.caPath);
  return args; // the API key travels in the environment (TEMPORAL_API_KEY), not on the command line
}

/** Connect a client; close `connection` when done. */
export async function connectClient(
  config: TemporalConnectionConfig,
): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect(connectionOptions(config));
  } catch (err) {
    throw new TemporalUnreachableError(config.address, err);
  }
  return { client: new Client({ connection, namespace: config.namespace }), connection };
}

/** No Temporal frontend answered at the address (the CLI exits with EXIT_CODES.temporalUnreachable). */
export class TemporalUnreachableError extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(
      `Temporal is unreachable at ${address} (${cause instanceof Error ? cause.message : String(cause)}): start the local dev server with \`stellar-emu dev start\`, or pass --address / TEMPORAL_ADDRESS`,
    );
    this.name = 'TemporalUnreachableError';
  }
}
