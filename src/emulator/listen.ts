/**
 * Listening on a port, for each of the emulator's listeners (AMQP, TLS, HTTP): resolves with the
 * port actually bound (0 picks a free one). A port in use fails with a message that names the
 * listener and the flag that moves it, and keeps `code: "EADDRINUSE"` and the cause.
 */
import type net from "node:net";

export function listenOn(
  server: net.Server,
  port: number,
  host: string,
  what: { readonly name: string; readonly flag: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === "EADDRINUSE"
          ? Object.assign(
              new Error(
                `${what.name} ${port} on ${host} is already in use; choose another with ${what.flag} (0 picks a free one)`,
                { cause: error },
              ),
              { code: "EADDRINUSE" },
            )
          : error,
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
