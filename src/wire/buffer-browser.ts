/**
 * The part of Node's Buffer that protostack's portable code calls (the HTTP
 * server's responses, the zone-file reader), for a browser, which has none.
 * scripts/build-playground.mjs injects it as `Buffer` into the playground's
 * bundle only; under Node the real Buffer is used. Encodings: utf8, latin1
 * (and ascii, read as latin1), hex.
 */
type Encoding = 'utf8' | 'utf-8' | 'latin1' | 'binary' | 'ascii' | 'hex';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(text: string, encoding: Encoding = 'utf8'): Uint8Array {
  switch (encoding) {
    case 'utf8':
    case 'utf-8':
      return encoder.encode(text);
    case 'latin1':
    case 'binary':
    case 'ascii': {
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
      return out;
    }
    case 'hex': {
      // Like Node: stops at the first pair that is not hex.
      const out: number[] = [];
      for (let i = 0; i + 1 < text.length; i += 2) {
        const byte = Number.parseInt(text.slice(i, i + 2), 16);
        if (!/^[0-9a-fA-F]{2}$/.test(text.slice(i, i + 2))) break;
        out.push(byte);
      }
      return Uint8Array.from(out);
    }
    default:
      throw new TypeError(`unknown encoding: ${String(encoding)}`);
  }
}

/** Node's Buffer.from takes an encoding where Uint8Array.from takes a map function: a class of its own, and the statics in an object. */
class BrowserBuffer extends Uint8Array {
  static fromValue(value: string | ArrayLike<number> | Iterable<number>, encoding?: Encoding): BrowserBuffer {
    const bytes = typeof value === 'string' ? encode(value, encoding) : Uint8Array.from(value as ArrayLike<number>);
    const out = new BrowserBuffer(bytes.length);
    out.set(bytes);
    return out;
  }

  static alloc(size: number): BrowserBuffer {
    return new BrowserBuffer(size);
  }

  static allocUnsafe(size: number): BrowserBuffer {
    return new BrowserBuffer(size);
  }

  static byteLength(value: string | Uint8Array, encoding?: Encoding): number {
    return typeof value === 'string' ? encode(value, encoding).length : value.length;
  }

  static concat(list: readonly Uint8Array[], total?: number): BrowserBuffer {
    const size = total ?? list.reduce((n, b) => n + b.length, 0);
    const out = new BrowserBuffer(size);
    let at = 0;
    for (const b of list) {
      if (at >= size) break;
      const piece = b.subarray(0, size - at);
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** Writes `text` at `offset`; returns the bytes written (cut at the end, as Node does). */
  write(text: string, offset = 0, encoding: Encoding = 'utf8'): number {
    const bytes = encode(text, encoding).subarray(0, Math.max(0, this.length - offset));
    this.set(bytes, offset);
    return bytes.length;
  }

  override toString(encoding: Encoding = 'utf8', start = 0, end = this.length): string {
    const bytes = this.subarray(start, end);
    if (encoding === 'hex') return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    if (encoding === 'latin1' || encoding === 'binary' || encoding === 'ascii') {
      let s = '';
      for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
      return s;
    }
    return decoder.decode(bytes);
  }
}

export const Buffer = {
  from: BrowserBuffer.fromValue,
  alloc: BrowserBuffer.alloc,
  allocUnsafe: BrowserBuffer.allocUnsafe,
  byteLength: BrowserBuffer.byteLength,
  concat: BrowserBuffer.concat,
};
