// Test helper: a TCP proxy in front of the API server that can freeze its open connections.
import { connect, createServer, type Server, type Socket } from "node:net";
import { KubeClient } from "../../src/runtime/client.ts";
import { kubeconfigCredentials } from "../../src/runtime/kubeconfig.ts";

/** A TCP proxy to the API server that can freeze its open connections: bytes stop flowing both
 *  ways but nothing is closed, exactly what a silently dead connection looks like. New
 *  connections after a freeze flow normally. */
export async function freezableProxy(kubeconfig: string): Promise<{ port: number; freeze: () => void; close: () => Promise<void> }> {
  const targetPort = Number(new URL(kubeconfigCredentials(kubeconfig).server).port);
  const pairs: Array<[Socket, Socket]> = [];
  const server: Server = createServer((down) => {
    const up = connect(targetPort, "127.0.0.1");
    pairs.push([down, up]);
    down.pipe(up); up.pipe(down);
    const kill = () => { down.destroy(); up.destroy(); };
    down.on("error", kill); up.on("error", kill);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    freeze: () => { for (const [d, u] of pairs) { d.unpipe(u); u.unpipe(d); d.pause(); u.pause(); } },
    close: () => new Promise<void>((r) => { server.close(() => r()); for (const [d, u] of pairs) { d.destroy(); u.destroy(); } }),
  };
}

/** A client for the kubeconfig's credentials that connects through 127.0.0.1:port. */
export function clientVia(kubeconfig: string, port: number): KubeClient {
  return new KubeClient({ ...kubeconfigCredentials(kubeconfig), server: `https://127.0.0.1:${port}` });
}
