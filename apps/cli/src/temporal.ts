// Temporal connection for CLI commands: address, namespace, TLS and API key from flags, then env.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';

/** Connection flags shared by every command that talks to Temporal. */
export interface TemporalConnectionFlags {
  address?: string;
  namespace?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  apiKey?: string;
}

/** Resolved connection settings. */
export interface TemporalConnectionConfig {
  address: string;
  namespace: string;
  /** True when neither --address nor TEMPORAL_ADDRESS named the address: the local dev server. */
  localDevServer: boolean;
  tls?: { clientCertPath?: string; clientKeyPath?: string; caPath?: string };
  apiKey?: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

/** Add --address, --namespace, --tls-cert, --tls-key, --tls-ca and --api-key to a command. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS; default: the local dev server, started if needed)')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default "default")')
    .option('--tls-cert <pem>', 'mTLS client certificate (env TEMPORAL_TLS_CERT)')
    .option('--tls-key <pem>', 'mTLS client key (env TEMPORAL_TLS_KEY)')
    .option('--tls-ca <pem>', 'server root CA (env TEMPORAL_TLS_CA)')
    .option('--api-key <key>', 'API key, e.g. for Temporal Cloud (env TEMPORAL_API_KEY)');
}

/** The local dev server's address (port from STELLAR_EMU_TEMPORAL_PORT, default 7233). */
export function localDevServerAddress(env: NodeJS.ProcessEnv = process.env): string {
  return `127.0.0.1:${nonEmpty(env.STELLAR_EMU_TEMPORAL_PORT) ?? '7233'}`;
}

/** Merge flags over TEMPORAL_* environment variables over the local dev server defaults. */
export function resolveTemporalConfig(flags: TemporalConnectionFlags = {}, env: NodeJS.ProcessEnv = process.env): TemporalConnectionConfig {
  const explicitAddress = nonEmpty(flags.address) ?? nonEmpty(env.TEMPORAL_ADDRESS);
  const clientCertPath = nonEmpty(flags.tlsCert) ?? nonEmpty(env.TEMPORAL_TLS_CERT);
  const clientKeyPath = nonEmpty(flags.tlsKey) ?? nonEmpty(env.TEMPORAL_TLS_KEY);
  const caPath = nonEmpty(flags.tlsCa) ?? nonEmpty(env.TEMPORAL_TLS_CA);
  const apiKey = nonEmpty(flags.apiKey) ?? nonEmpty(env.TEMPORAL_API_KEY);
  if (Boolean(clientCertPath) !== Boolean(clientKeyPath)) {
    throw new Error('a TLS client certificate and its key go together: give both --tls-cert and --tls-key (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY)');
  }
  const useTls = Boolean(clientCertPath || caPath || apiKey);
  return {
    address: explicitAddress ?? localDevServerAddress(env),
    namespace: nonEmpty(flags.namespace) ?? nonEmpty(env.TEMPORAL_NAMESPACE) ?? 'default',
    localDevServer: explicitAddress === undefined,
    ...(useTls ? { tls: { clientCertPath, clientKeyPath, caPath } } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

/** Options for `Connection.connect` (reads the PEM files). */
export function connectionOptions(config: TemporalConnectionConfig): ConnectionOptions {
  const tls = config.tls
    ? {
        ...(config.tls.caPath ? { serverRootCACertificate: readFileSync(config.tls.caPath) } : {}),
        ...(config.tls.clientCertPath && config.tls.clientKeyPath
          ? { clientCertPair: { crt: readFileSync(config.tls.clientCertPath), key: readFileSync(config.tls.clientKeyPath) } }
          : {}),
      }
    : undefined;
  return { address: config.address, ...(tls ? { tls } : {}), ...(config.apiKey ? { apiKey: config.apiKey } : {}) };
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
export async function connectClient(config: TemporalConnectionConfig): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect(connectionOptions(config));
  return { client: new Client({ connection, namespace: config.namespace }), connection };
}
