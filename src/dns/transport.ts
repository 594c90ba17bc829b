/**
 * One DNS exchange with one server, through the socket library: UDP first,
 * TCP when the answer is truncated (RFC 1035 §4.2, RFC 7766).
 *
 * Against spoofing (RFC 5452 §9.1) every UDP query gets a fresh socket on a
 * random port and a random ID, and a datagram counts as the answer only if it
 * comes from the server's address and port, carries our ID and repeats our
 * question; anything else is dropped and the wait goes on.
 */
import { CryptoRandom } from '../link/random.js';
import type { SocketLibrary } from '../socket/library.js';
import type { Endpoint } from '../stack/types.js';
import { hostPort } from '../wire/address.js';
import { DnsError } from '../wire/dns/errors.js';
import { decodeMessage, encodeMessage, frameTcp } from '../wire/dns/message.js';
import { namesEqual } from '../wire/dns/name.js';
import { emptyMessage, type DnsMessage, type Question } from '../wire/dns/types.js';
import { ipFamily } from '../wire/ip-address.js';
import type { TraceSink } from '../trace-events.js';
import { questionTracer, type QuestionTracer } from './trace.js';

const secure = new CryptoRandom();
/** A uniform integer in [min, max) that nobody can predict, as node:crypto's randomInt gives, from Web Crypto. */
const randomInt = (min: number, max: number): number => min + secure.int(max - min);

export interface ExchangeOptions {
  /** Milliseconds for this one exchange. */
  timeout: number;
  /** Advertise EDNS0 with this UDP payload size; 0 sends no OPT record. */
  udpSize: number;
  /** Skip UDP and ask over TCP. */
  tcp?: boolean;
  signal?: AbortSignal;
  /** Random integers in [min, max) for query IDs and source ports; the platform's CSPRNG (Web Crypto) by default. A seeded one makes a simulated run replayable. */
  randomInt?: (min: number, max: number) => number;
  /** Where the question and its answer are recorded (DnsEvent); nothing is built without one. */
  trace?: TraceSink | null;
}

export interface Exchange {
  response: DnsMessage;
  server: Endpoint;
  via: 'udp' | 'tcp';
  /** Size of the response on the wire. */
  size: number;
}

/** Ports below 1024 need privileges; RFC 5452 §10 asks for as wide a range as possible above them. */
const PORT_RANGE = [1024, 65_536] as const;
const BIND_TRIES = 8;

export async function exchange(lib: SocketLibrary, server: Endpoint, question: Question, options: ExchangeOptions): Promise<Exchange> {
  const deadline = lib.stack.now() + options.timeout;
  if (!options.tcp) {
    const udp = await exchangeUdp(lib, server, question, options);
    if (udp.response && !udp.response.tc) return { response: udp.response, server, via: 'udp', size: udp.size };
  }
  return exchangeTcp(lib, server, question, { ...options, timeout: Math.max(1, deadline - lib.stack.now()) });
}

function query(question: Question, udpSize: number, random: (min: number, max: number) => number = randomInt): { id: number; bytes: Uint8Array } {
  const id = random(0, 65_536);
  const edns = udpSize > 0 ? { udpSize, version: 0, dnssecOk: false, options: [] } : null;
  return { id, bytes: encodeMessage(emptyMessage({ id, rd: true, questions: [question], edns })) };
}

/** Does `m` answer our query? (RFC 5452 §9.1: ID and question must match.) */
function answers(m: DnsMessage, id: number, question: Question): boolean {
  if (!m.qr || m.id !== id) return false;
  // Some servers answer FORMERR/NOTIMP with no question section (RFC 1035 leaves it open).
  if (m.questions.length === 0) return m.rcode !== 0;
  const q = m.questions[0]!;
  return m.questions.length === 1 && q.type === question.type && q.class === question.class && namesEqual(q.name, question.name);
}

async function exchangeUdp(lib: SocketLibrary, server: Endpoint, question: Question, options: ExchangeOptions): Promise<{ response: DnsMessage | null; size: number }> {
  const { id, bytes } = query(question, options.udpSize, options.randomInt);
  const fd = await lib.socket('udp');
  let traced: QuestionTracer | null = null;
  try {
    await bindRandomPort(lib, fd, ipFamily(server.address) === 6 ? '::' : '0.0.0.0', options.randomInt);
    const deadline = lib.stack.now() + options.timeout;
    if (options.trace) traced = questionTracer(options.trace, lib, fd, 'udp', show(server), id, question);
    await lib.sendto(fd, bytes, server.address, server.port, { signal: options.signal });
    traced?.sent(bytes.length);
    // One byte more than we advertised, so a reply larger than promised shows up as truncated.
    const limit = Math.max(512, options.udpSize);
    const buffer = new Uint8Array(limit + 1);
    for (;;) {
      const remaining = deadline - lib.stack.now();
      if (remaining <= 0) throw new DnsError('ERR_DNS_TIMEOUT', `no answer from ${show(server)} within ${options.timeout} ms`);
      let got;
      try {
        got = await lib.recvfrom(fd, buffer, { timeout: remaining, signal: options.signal });
      } catch (e) {
        throw translate(e, server, options.timeout);
      }
      if (got.address !== server.address || got.port !== server.port) continue;
      // Larger than we said we could take (the CVE-2015-7547 class): do not parse it, ask over TCP.
      if (got.truncated || got.bytes > limit) {
        traced?.answered(null, got.bytes);
        return { response: null, size: got.bytes };
      }
      let m: DnsMessage;
      try {
        m = decodeMessage(buffer.subarray(0, got.bytes), { maxSize: limit });
      } catch {
        continue; // garbage, perhaps forged: keep waiting for the real answer
      }
      if (answers(m, id, question)) {
        traced?.answered(m, got.bytes);
        return { response: m, size: got.bytes };
      }
    }
  } catch (e) {
    traced?.failed(e);
    throw e;
  } finally {
    await lib.close(fd).catch(() => {});
  }
}

async function exchangeTcp(lib: SocketLibrary, server: Endpoint, question: Question, options: ExchangeOptions): Promise<Exchange> {
  const { id, bytes } = query(question, options.udpSize, options.randomInt);
  const deadline = lib.stack.now() + options.timeout;
  const left = () => {
    const ms = deadline - lib.stack.now();
    if (ms <= 0) throw new DnsError('ERR_DNS_TIMEOUT', `no answer from ${show(server)} over TCP within ${options.timeout} ms`);
    return { timeout: ms, signal: options.signal };
  };
  const fd = await lib.socket('tcp');
  let traced: QuestionTracer | null = null;
  try {
    await lib.connect(fd, server.address, server.port, left());
    if (options.trace) traced = questionTracer(options.trace, lib, fd, 'tcp', show(server), id, question);
    await lib.write(fd, frameTcp(bytes), undefined, left());
    traced?.sent(bytes.length);
    const head = await readFull(lib, fd, 2, left);
    const length = (head[0]! << 8) | head[1]!;
    const body = await readFull(lib, fd, length, left);
    const m = decodeMessage(body);
    if (!answers(m, id, question)) throw new DnsError('ERR_DNS_BAD_RESPONSE', `${show(server)} answered over TCP with another ID or question`);
    traced?.answered(m, length);
    return { response: m, server, via: 'tcp', size: length };
  } catch (e) {
    const error = translate(e, server, options.timeout);
    traced?.failed(error);
    throw error;
  } finally {
    await lib.close(fd).catch(() => {});
  }
}

async function readFull(lib: SocketLibrary, fd: number, length: number, left: () => { timeout: number; signal?: AbortSignal }): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await lib.read(fd, out.subarray(got), undefined, left());
    if (n === 0) throw new DnsError('ERR_DNS_BAD_RESPONSE', `the server closed the TCP connection after ${got} of ${length} bytes`);
    got += n;
  }
  return out;
}

/** A random local port for each query; a port in use just means another draw. */
async function bindRandomPort(lib: SocketLibrary, fd: number, any: string, random: (min: number, max: number) => number = randomInt): Promise<void> {
  for (let i = 0; i < BIND_TRIES; i++) {
    try {
      await lib.bind(fd, any, random(PORT_RANGE[0], PORT_RANGE[1]));
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EADDRINUSE' && (e as { code?: string }).code !== 'EACCES') throw e;
    }
  }
  await lib.bind(fd, any, 0);
}

function translate(e: unknown, server: Endpoint, timeout: number): Error {
  const code = (e as { code?: string }).code;
  if (e instanceof DnsError) return e;
  if (code === 'ETIMEDOUT') return new DnsError('ERR_DNS_TIMEOUT', `no answer from ${show(server)} within ${timeout} ms`, { cause: e });
  if (code === 'ECANCELED') return new DnsError('ERR_DNS_CANCELED', 'the lookup was canceled', { cause: e });
  return e as Error;
}

export function show(server: Endpoint): string {
  return hostPort(server.address, server.port);
}
