/**
 * The MLLP listener (HL7 v2 over TCP: <VT> message <FS><CR>). Replies go out through @medplum/hl7's Hl7Connection
 * (framing and character encoding). Inbound frames are cut here, from the bytes, before any parsing: the library
 * parses each frame itself and, for a frame it cannot parse (no MSH, a byte-order mark), only emits an error without
 * the text — and a malformed message must be stored and answered like any other. The server is Node's own, bound to
 * the configured host (127.0.0.1 by default; the library's Hl7Server listens on every interface). Messages of one
 * connection are handled one after another, in the order they arrived.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import type { Hl7Message } from '@medplum/core';
import { Hl7Connection } from '@medplum/hl7';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

/** Splits an MLLP byte stream into frames; bytes outside a frame are dropped. */
export class MllpFrames {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes = 4 * 1024 * 1024) {}

  /** Adds received bytes; returns the frames completed by them (their content, without VT / FS CR). */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      const start = this.buffer.indexOf(VT);
      if (start < 0) {
        this.buffer = Buffer.alloc(0);
        break;
      }
      let end = this.buffer.indexOf(FS, start + 1);
      while (end >= 0 && end + 1 < this.buffer.length && this.buffer[end + 1] !== CR) {
        end = this.buffer.indexOf(FS, end + 1); // an FS not followed by CR is content
      }
      if (end < 0 || end + 1 >= this.buffer.length) {
        this.buffer = this.buffer.subarray(start);
        if (this.buffer.length > this.maxBytes) {
          throw new Error(`MLLP frame larger than ${this.maxBytes} bytes`);
        }
        break;
      }
      frames.push(this.buffer.subarray(start + 1, end));
      this.buffer = this.buffer.subarray(end + 2);
    }
    return frames;
  }
}

export interface MllpListenerOptions {
  port: number;
  host: string;
  /** Text encoding of the messages (default utf-8). */
  encoding?: BufferEncoding;
  /** Handles one message (the frame's bytes); resolves to the reply to send (undefined: send nothing). */
  onMessage(frame: Buffer, remote: string | undefined): Promise<Hl7Message | undefined>;
  onError?(err: Error): void;
}

export class MllpListener {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: MllpListenerOptions) {}

  async listen(): Promise<AddressInfo> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.options.port, host: this.options.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.options.onError?.(err));
    return server.address() as AddressInfo;
  }

  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const frames = new MllpFrames();
    const encoding = this.options.encoding ?? 'utf-8';
    const connection = new Hl7Connection(socket, encoding);
    // the library parses frames too; its parse errors are ours to handle (from the raw text), not to log twice
    connection.addEventListener('error', () => undefined);
    const remote = socket.remoteAddress;
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let complete: Buffer[];
      try {
        complete = frames.push(chunk);
      } catch (err) {
        this.options.onError?.(err as Error);
        socket.destroy();
        return;
      }
      for (const frame of complete) {
        const bytes = Buffer.from(frame); // its own copy: the stream's buffer is reused
        chain = chain.then(async () => {
          const work = this.options.onMessage(bytes, remote).then(
            (reply) => {
              if (reply && !socket.destroyed) {
                connection.send(reply);
              }
            },
            (err: unknown) => this.options.onError?.(err as Error),
          );
          this.inFlight.add(work);
          await work;
          this.inFlight.delete(work);
        });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Stops listening, lets messages being processed finish, then closes the connections. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.allSettled([...this.inFlight]);
    for (const s of this.sockets) {
      s.destroy();
    }
    await closed;
  }
}
