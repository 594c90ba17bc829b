/** The shapes of the socket library's calls: socket types, per-call options, what recvfrom returns, the library's options. */
import type { TraceSink } from '../trace-events.js';
import type { SocketOptions } from './options.js';

export type SocketType = 'tcp' | 'udp';
export type ShutdownHow = 'read' | 'write' | 'both';

/** Per-call overrides: a timeout in milliseconds instead of the socket's, and a signal to give up early. */
export interface CallOptions {
  timeout?: number;
  signal?: AbortSignal;
}

export interface RecvResult {
  bytes: number;
  address: string;
  port: number;
  /** The datagram did not fit the buffer; the rest was discarded. */
  truncated: boolean;
}

export interface LibraryOptions {
  /** Who is calling, for traces ("client", "server"). */
  label?: string;
  trace?: TraceSink | null;
  /** The most descriptors open at once (RLIMIT_NOFILE); past it socket() and accept() fail with EMFILE. */
  maxDescriptors?: number;
  /** Options every new socket starts with. */
  defaults?: Partial<SocketOptions>;
}
