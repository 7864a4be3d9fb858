// Reading text streams incrementally: lines across chunk boundaries, and server-sent events.

/** Splits a byte stream into text lines, across chunk boundaries. */
export class Lines {
  private buffer = "";
  private decoder = new TextDecoder();
  push(bytes: Uint8Array): string[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    const parts = this.buffer.split(/\r?\n/);
    this.buffer = parts.pop() ?? "";
    return parts;
  }
  rest(): string {
    const r = this.buffer + this.decoder.decode();
    this.buffer = "";
    return r;
  }
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** Incremental server-sent-events parser. */
export class SseParser {
  private lines = new Lines();
  private event: string | undefined;
  private data: string[] = [];
  push(bytes: Uint8Array): SseEvent[] {
    return this.take(this.lines.push(bytes));
  }
  end(): SseEvent[] {
    const out = this.take([this.lines.rest(), ""]);
    return out;
  }
  private take(lines: string[]): SseEvent[] {
    const out: SseEvent[] = [];
    for (const line of lines) {
      if (line === "") {
        if (this.data.length) out.push({ event: this.event, data: this.data.join("\n") });
        this.event = undefined;
        this.data = [];
      } else if (line.startsWith("data:")) {
        this.data.push(line.slice(line[5] === " " ? 6 : 5));
      } else if (line.startsWith("event:")) {
        this.event = line.slice(6).trim();
      }
    }
    return out;
  }
}
