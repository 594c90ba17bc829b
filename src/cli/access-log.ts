/**
 * The access log of `protostack serve`: one line per request, gathered in
 * memory and written in batches, so a busy server makes one write(2) per
 * batch instead of one per request.
 *
 * A batch goes out when it reaches `maxBytes`, or `delayMs` after its first
 * line, whichever comes first, and at flush() (shutdown). While a write is
 * still pending (a slow terminal or pipe), lines beyond `maxPending` bytes
 * are counted as dropped rather than held, so memory stays bounded; the
 * count is reported with the next line that gets through.
 */
export interface AccessLogOptions {
  /** Bytes gathered before a write. Default 16 KiB. */
  maxBytes?: number;
  /** Milliseconds a line may wait. Default 100. */
  delayMs?: number;
  /** Bytes handed to the stream and not yet written before lines are dropped. Default 4 MiB. */
  maxPending?: number;
}

/** Where lines go: process.stdout, or any stream with write(chunk, callback). */
export interface LogSink {
  write(chunk: string, callback: (err?: Error | null) => void): boolean;
}

export class AccessLog {
  private batch = '';
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Bytes written to the sink whose callback has not come yet. */
  private pending = 0;
  /** Lines dropped since the last one reported. */
  dropped = 0;
  private readonly maxBytes: number;
  private readonly delayMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly sink: LogSink,
    options: AccessLogOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 16 * 1024;
    this.delayMs = options.delayMs ?? 100;
    this.maxPending = options.maxPending ?? 4 * 1024 * 1024;
  }

  line(text: string): void {
    if (this.pending + this.batch.length > this.maxPending) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0) {
      this.batch += `(access log: ${this.dropped} lines dropped while the output was slow)\n`;
      this.dropped = 0;
    }
    this.batch += text + '\n';
    if (this.batch.length >= this.maxBytes) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      this.timer.unref?.();
    }
  }

  /** Writes what is gathered now. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.batch === '') return;
    const chunk = this.batch;
    this.batch = '';
    this.pending += chunk.length;
    this.sink.write(chunk, () => (this.pending -= chunk.length));
  }
}
