/**
 * A TCP relay between a client and a server that can cut a connection at a chosen moment: right
 * after the server has answered the statement whose text matches, so that the answer never
 * reaches the client (a network failure at the worst time), or as the client sends it, so that
 * the server never gets it; and that can hold new connections back until told.
 */
import net from 'node:net';

export interface TcpCutter {
  readonly port: number;
  /** Cut the connection that next sends `text`, once the server answers it. */
  cutAfterAnswerTo(text: string): void;
  /**
   * Cut the client's side of the connection that next sends `text`, before the server gets it.
   * The server's side stays open until `close`, as a crash or a dropped network leaves it: the
   * server, waiting for the rest of the transaction, never aborts it (an abort would be logged).
   */
  cutBefore(text: string): void;
  /** Hold new connections (not yet relayed to the server) until `release`. */
  hold(): void;
  release(): void;
  /** How many connections were cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export function startTcpCutter(targetPort: number): Promise<TcpCutter> {
  let armed: string | undefined;
  let armedBefore: string | undefined;
  let cuts = 0;
  let held: (() => void)[] | undefined;
  const sockets = new Set<net.Socket>();
  const relay = (client: net.Socket) => {
    if (client.destroyed) return;
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let doomed = false;
    let serverLeftWaiting = false;
    client.on('data', (chunk) => {
      if (armedBefore !== undefined && chunk.includes(armedBefore)) {
        armedBefore = undefined;
        cuts++;
        serverLeftWaiting = true;
        client.destroy();
        return;
      }
      if (armed !== undefined && chunk.includes(armed)) {
        doomed = true;
        armed = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (doomed) {
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      if (!client.destroyed) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      sockets.delete(client);
      if (serverLeftWaiting && !upstream.destroyed) return;
      upstream.destroy();
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  };
  const server = net.createServer((client) => {
    if (held === undefined) relay(client);
    else {
      // Paused: what the client sends meanwhile stays buffered for the relay.
      client.pause();
      sockets.add(client);
      held.push(() => {
        relay(client);
        client.resume();
      });
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        cutAfterAnswerTo(text) {
          armed = text;
        },
        cutBefore(text) {
          armedBefore = text;
        },
        hold() {
          held ??= [];
        },
        release() {
          const waiting = held ?? [];
          held = undefined;
          for (const go of waiting) go();
        },
        get cuts() {
          return cuts;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
