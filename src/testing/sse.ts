// Reads server-sent events from a real HTTP response (WHATWG HTML §9.2 framing), for tests of /api/v1/stream.

export interface SseMessage {
  id?: string;
  event: string;
  data: unknown;
  /** When it arrived (ms). */
  at: number;
}

export interface SseReader {
  messages: SseMessage[];
  /** The first message of this event (and match) so far, waiting up to `timeoutMs` for it. */
  next(event: string, match?: (data: never) => boolean, timeoutMs?: number): Promise<SseMessage>;
  close(): void;
}

/** Reads `res`'s body as it comes; `controller` is the one its request was made with (close aborts it). */
export function readServerSentEvents(res: Response, controller: AbortController): SseReader {
  const messages: SseMessage[] = [];
  const waiters: (() => void)[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const m: SseMessage = { event: 'message', data: undefined, at: Date.now() };
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) m.event = line.slice(7);
            else if (line.startsWith('data: ')) m.data = JSON.parse(line.slice(6));
            else if (line.startsWith('id: ')) m.id = line.slice(4);
          }
          if (m.data !== undefined) messages.push(m);
          waiters.splice(0).forEach((w) => w());
        }
      }
    } catch {
      // aborted
    }
  })();
  const next = async (event: string, match: (data: never) => boolean = () => true, timeoutMs = 5000): Promise<SseMessage> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find((m) => m.event === event && match(m.data as never));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${event} message within ${timeoutMs} ms; got ${messages.map((m) => m.event).join(', ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { messages, next, close: () => controller.abort() };
}
