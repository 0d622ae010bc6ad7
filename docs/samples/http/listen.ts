import type { Server } from "node:http"
import type { AddressInfo } from "node:net"

// #region listen
/** Listens on a free loopback port; returns the base URL and how to stop. */
export const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
// #endregion listen
