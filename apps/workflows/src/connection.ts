// Temporal connection settings shared by the worker and the CLI: flags over TEMPORAL_* environment
// variables over the local dev server. Not part of the workflow bundle (it reads files).
import { readFileSync } from 'node:fs';

/** Connection flags (each overrides its environment variable). */
export interface TemporalConnectionFlags {
  /** host:port of the Temporal frontend (TEMPORAL_ADDRESS). */
  address?: string;
  /** Namespace (TEMPORAL_NAMESPACE). */
  namespace?: string;
  /** Path of the mTLS client certificate, PEM (TEMPORAL_TLS_CERT). */
  tlsCert?: string;
  /** Path of the mTLS client key, PEM (TEMPORAL_TLS_KEY). */
  tlsKey?: string;
  /** Path of the server's root CA, PEM (TEMPORAL_TLS_CA). */
  tlsCa?: string;
  /** API key, e.g. for Temporal Cloud (TEMPORAL_API_KEY). */
  apiKey?: string;
}

/** Resolved connection settings. */
export interface TemporalConnectionConfig {
  address: string;
  namespace: string;
  /** True when neither a flag nor TEMPORAL_ADDRESS named the address: the local dev server. */
  localDevServer: boolean;
  tls?: { clientCertPath?: string; clientKeyPath?: string; caPath?: string };
  apiKey?: string;
}

const nonEmpty = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === '' ? undefined : v.trim();

/** The local dev server's address (port from STELLAR_EMU_TEMPORAL_PORT, default 7233). */
export function localDevServerAddress(env: NodeJS.ProcessEnv = process.env): string {
  return `127.0.0.1:${nonEmpty(env.STELLAR_EMU_TEMPORAL_PORT) ?? '7233'}`;
}

/** Merge flags over TEMPORAL_* environment variables over the local dev server defaults. */
export function resolveTemporalConfig(
  flags: TemporalConnectionFlags = {},
  env: NodeJS.ProcessEnv = process.env,
): TemporalConnectionConfig {
  const explicitAddress = nonEmpty(flags.address) ?? nonEmpty(env.TEMPORAL_ADDRESS);
  const clientCertPath = nonEmpty(flags.tlsCert) ?? nonEmpty(env.TEMPORAL_TLS_CERT);
  const clientKeyPath = nonEmpty(flags.tlsKey) ?? nonEmpty(env.TEMPORAL_TLS_KEY);
  const caPath = nonEmpty(flags.tlsCa) ?? nonEmpty(env.TEMPORAL_TLS_CA);
  const apiKey = nonEmpty(flags.apiKey) ?? nonEmpty(env.TEMPORAL_API_KEY);
  if (Boolean(clientCertPath) !== Boolean(clientKeyPath)) {
    throw new Error(
      'a TLS client certificate and its key go together: give both --tls-cert and --tls-key (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY)',
    );
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

/** Address, TLS material (the PEM files read) and API key: the common part of client and worker connection options. */
export function connectionBasics(config: TemporalConnectionConfig): {
  address: string;
  tls?: { serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
  apiKey?: string;
} {
  const tls = config.tls
    ? {
        ...(config.tls.caPath ? { serverRootCACertificate: readFileSync(config.tls.caPath) } : {}),
        ...(config.tls.clientCertPath && config.tls.clientKeyPath
          ? {
              clientCertPair: {
                crt: readFileSync(config.tls.clientCertPath),
                key: readFileSync(config.tls.clientKeyPath),
              },
            }
          : {}),
      }
    : undefined;
  return {
    address: config.address,
    ...(tls ? { tls } : {}),
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  };
}

/** One line for logs, without secrets. */
export function describeConnection(config: TemporalConnectionConfig): string {
  const tls = config.tls ? `TLS${config.tls.clientCertPath ? ' (mTLS)' : ''}` : 'plaintext';
  return `${config.address} namespace ${config.namespace}, ${tls}${config.apiKey ? ', API key' : ''}`;
}
