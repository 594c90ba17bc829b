/**
 * The resolver's own trace: each question it sends and what came of it, as
 * DnsEvents. Made only when a sink was given, so a resolver without one
 * builds nothing.
 */
import type { SocketLibrary } from '../socket/library.js';
import type { TraceSink } from '../trace-events.js';
import { rcodeName, typeName, type DnsMessage, type Question } from '../wire/dns/types.js';
import { formatRdata } from './present.js';

export interface QuestionTracer {
  /** The question went out: `size` bytes of query. */
  sent(size: number): void;
  /** A reply matched it (`null`: one too large to parse, to be asked again over TCP). */
  answered(response: DnsMessage | null, size: number): void;
  /** No reply will: the exchange failed with `error`. */
  failed(error: unknown): void;
}

export function questionTracer(sink: TraceSink, lib: SocketLibrary, fd: number, transport: 'udp' | 'tcp', server: string, id: number, question: Question): QuestionTracer {
  const base = { who: lib.label, stack: lib.stack.name, fd, transport, server, id, name: question.name, type: typeName(question.type) };
  let sentAt = -1;
  let done = false;
  return {
    sent(size) {
      sentAt = lib.stack.now();
      sink.record({ kind: 'dns', seq: 0, ...base, phase: 'query', start: sentAt, size });
    },
    answered(response, size) {
      if (done || sentAt < 0) return;
      done = true;
      const now = lib.stack.now();
      sink.record({
        kind: 'dns', seq: 0, ...base, phase: 'answer', start: now, size, elapsed: now - sentAt,
        ...(response ? { rcode: rcodeName(response.rcode), truncated: response.tc, answers: response.answers.map((r) => `${typeName(r.type)} ${formatRdata(r)}`) } : { truncated: true }),
      });
    },
    failed(error) {
      if (done || sentAt < 0) return;
      done = true;
      const now = lib.stack.now();
      const code = (error as { code?: unknown }).code;
      sink.record({ kind: 'dns', seq: 0, ...base, phase: 'failed', start: now, elapsed: now - sentAt, error: typeof code === 'string' ? code : 'ERR_DNS' });
    },
  };
}
