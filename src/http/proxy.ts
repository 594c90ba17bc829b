/**
 * Proxies from the environment (http_proxy, https_proxy, no_proxy, as curl
 * reads them) and the CONNECT tunnel (RFC 9110 §9.3.6) for HTTPS through one.
 */
import { HttpError } from '../wire/http/errors.js';
import { HttpParser } from '../wire/http/parser.js';
import { serializeRequestHead } from '../wire/http/serialize.js';
import type { HeaderList, MessageHead } from '../wire/http/types.js';
import type { Io } from './io.js';

export interface ProxyConfig {
  http?: string;
  https?: string;
  /** Comma-separated hosts, domains (".example.com" or "example.com" cover subdomains), host:port, or "*". */
  noProxy?: string;
}

export function proxyFromEnv(env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const pick = (lower: string) => env[lower] ?? env[lower.toUpperCase()];
  const config: ProxyConfig = {};
  const http = pick('http_proxy');
  const https = pick('https_proxy');
  const no = pick('no_proxy');
  if (http) config.http = http;
  if (https) config.https = https;
  if (no) config.noProxy = no;
  return config;
}

/** The proxy URL for a target, or null when it should be reached directly. */
export function proxyFor(url: URL, config: ProxyConfig): URL | null {
  const raw = url.protocol === 'https:' ? config.https : config.http;
  if (!raw || bypass(url, config.noProxy)) return null;
  try {
    const proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
    if (proxy.protocol !== 'http:') throw new Error(`unsupported proxy scheme ${proxy.protocol}`);
    return proxy;
  } catch (e) {
    throw new HttpError('ERR_HTTP_PROXY', `bad proxy URL ${raw}: ${(e as Error).message}`);
  }
}

function bypass(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (let entry of noProxy.split(/[\s,]+/)) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    let entryPort: string | null = null;
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !entry.startsWith('[') && !m[1]!.includes(':')) {
      entry = m[1]!;
      entryPort = m[2]!;
    }
    if (entryPort && entryPort !== port) continue;
    entry = entry.replace(/^\*?\./, '');
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

export function proxyAuthorization(proxy: URL): HeaderList {
  if (!proxy.username) return [];
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return [['proxy-authorization', `Basic ${Buffer.from(credentials).toString('base64')}`]];
}

/** Asks the proxy on `io` for a tunnel to host:port; resolves once it answered 2xx. */
export async function tunnel(io: Io, authority: string, proxy: URL, timeout: number): Promise<void> {
  await io.write(serializeRequestHead('CONNECT', authority, [['Host', authority], ...proxyAuthorization(proxy)]));
  let head: MessageHead | null = null;
  const parser = new HttpParser('response', { onHead: (h) => (head = h), onBody: () => {}, onEnd: () => {} });
  parser.expect('CONNECT');
  const buffer = new Uint8Array(16 * 1024);
  while (!head) {
    const n = await io.read(buffer, timeout);
    if (n === 0) throw new HttpError('ERR_HTTP_PROXY', `the proxy closed the connection before answering CONNECT ${authority}`);
    const used = parser.execute(buffer.subarray(0, n));
    const got = head as MessageHead | null;
    if (got && got.kind === 'response' && got.status >= 200 && got.status < 300 && used !== n)
      throw new HttpError('ERR_HTTP_PROXY', 'the proxy sent data before the tunnel was used');
  }
  const h = head as MessageHead;
  if (h.kind !== 'response' || h.status < 200 || h.status >= 300)
    throw new HttpError('ERR_HTTP_PROXY', `the proxy refused CONNECT ${authority}: ${h.kind === 'response' ? `${h.status} ${h.reason}` : 'not a response'}`);
}
