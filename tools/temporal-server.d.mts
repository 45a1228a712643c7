// Types of temporal-server.mjs for TypeScript callers (the CLI's `dev` command, vitest globalSetup).

export declare const REPO_ROOT: string;
export declare const TEMPORAL_CLI_VERSION: string;
export declare const TEMPORAL_CLI_MODULE: string;
export declare const TEMPORAL_CLI_TOOL_DIR: string;

export interface DevServerOptions {
  /** gRPC port (STELLAR_EMU_TEMPORAL_PORT, default 7233). */
  port?: number;
  /** Web UI port (STELLAR_EMU_TEMPORAL_UI_PORT, default port + 1000). */
  uiPort?: number;
  /** State, pid file and log folder, relative to the repository root (STELLAR_EMU_TEMPORAL_DATA_DIR, default .data/temporal). */
  dataDir?: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Progress messages (default: stderr). */
  log?: (message: string) => void;
  /** Recorded in the pid file: who started the server. */
  owner?: 'user' | 'tests';
}

export interface DevServerConfig {
  ip: string;
  port: number;
  uiPort: number;
  address: string;
  uiUrl: string;
  namespace: string;
  dataDir: string;
  dbFile: string;
  stateFile: string;
  logFile: string;
  lockFile: string;
  leaseDir: string;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  log: (message: string) => void;
}

export interface DevServerInfo {
  address: string;
  namespace: string;
  port: number;
  uiUrl: string;
  dbFile: string;
  logFile: string;
  /** Pid of the server started by this tooling (null for a server it did not start). */
  pid: number | null;
  binary: string | null;
  owner: 'user' | 'tests' | null;
}

export interface StartResult extends DevServerInfo {
  /** True when a server was already answering. */
  reused: boolean;
  /** True when that server was not started by this tooling. */
  external: boolean;
  startMs?: number;
}

export interface StoppedProcess {
  pid: number;
  signal: 'SIGTERM' | 'SIGKILL';
  ms: number;
}

export interface StopResult extends DevServerInfo {
  stopped: StoppedProcess[];
  /** Nothing of ours ran, but some other server answers on the port. */
  externalStillAnswering: boolean;
}

export interface StatusResult extends DevServerInfo {
  running: boolean;
  healthy: boolean;
  external: boolean;
}

export interface Lease extends StartResult {
  /** Give the server back; stops it if tests started it and no other test process uses it. */
  release(): Promise<{ stopped: StoppedProcess[]; stillUsedBy?: number; owner?: string | null }>;
}

export declare function devServerConfig(options?: DevServerOptions): DevServerConfig;
export declare function ensureTemporalCli(options?: { log?: (message: string) => void }): Promise<string>;
export declare function portOpen(port: number, host?: string, timeoutMs?: number): Promise<boolean>;
export declare function temporalHealthy(binary: string, address: string, namespace?: string): boolean;
export declare function findDevServerProcesses(dbFile: string): { pid: number; command: string }[];
export declare function startDevServer(options?: DevServerOptions): Promise<StartResult>;
export declare function stopDevServer(options?: DevServerOptions): Promise<StopResult>;
export declare function devServerStatus(options?: DevServerOptions): Promise<StatusResult>;
export declare function leaseDevServer(options?: DevServerOptions): Promise<Lease>;
