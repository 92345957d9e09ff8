/**
 * A TCP relay between a client and a server that can cut a connection at a chosen moment: right
 * after the server has answered the statement whose text matches, so that the answer never
 * reaches the client (a network failure at the worst time).
 */
import net from 'node:net';

export interface TcpCutter {
  readonly port: number;
  /** Cut the connection that next sends `text`, once the server answers it. */
  cutAfterAnswerTo(text: string): void;
  /** How many connections were cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export function startTcpCutter(targetPort: number): Promise<TcpCutter> {
  let armed: string | undefined;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let doomed = false;
    client.on('data', (chunk) => {
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
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        cutAfterAnswerTo(text) {
          armed = text;
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
