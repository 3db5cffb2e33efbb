/** Starts the emulator: topology, namespace, AMQP listener; `close()` releases them in reverse. */
import type { Emulator, EmulatorOptions } from "./api.js";
import { ManagementPlane } from "./admin/plane.js";
import { AmqpServer } from "./amqp/server.js";
import { Namespace } from "./broker/namespace.js";
import { systemClock } from "./clock.js";
import { defaultTopology, loadEmulatorConfigFile, parseEmulatorConfig } from "./config/index.js";
import type { Topology } from "./topology.js";

async function resolveTopology(o: EmulatorOptions): Promise<Topology> {
  const strict = { strictOfficial: o.strictOfficial ?? false };
  if (o.topology) return o.topology;
  if (o.config !== undefined) return parseEmulatorConfig(o.config, strict);
  if (o.configPath !== undefined) return loadEmulatorConfigFile(o.configPath, strict);
  return defaultTopology();
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clock = options.clock ?? systemClock;
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => undefined);
  const topology = await resolveTopology(options);
  const namespace = Namespace.fromTopology(topology, clock);
  const maxFor = (address: string): number => {
    const name = address.split("/")[0]!.toLowerCase();
    const q = namespace.queues.get(name);
    return q?.spec.maxMessageSizeBytes ?? namespace.topics.get(name)?.spec.maxMessageSizeBytes ?? 1024 * 1024;
  };
  const plane = new ManagementPlane(options, namespace, clock, host, log);
  const server = new AmqpServer({
    namespace,
    clock,
    sasKeys: options.sasKeys,
    maxMessageSizeFor: maxFor,
    log,
    authorizer: plane.authorizer,
    onHttpSocket: plane.onHttpSocket,
  });
  let port: number;
  let listening: Awaited<ReturnType<ManagementPlane["listen"]>>;
  try {
    port = await server.listen(options.port ?? 0, host);
    listening = await plane.listen((socket) => server.acceptSocket(socket));
  } catch (error) {
    await plane.close();
    await server.close();
    namespace.close();
    throw error;
  }
  const connectionHost =
    host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  const keyName = Object.keys(options.sasKeys ?? {})[0] ?? "RootManageSharedAccessKey";
  const key = options.sasKeys?.[keyName] ?? "SAS_KEY_VALUE";
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= plane
      .close()
      .then(() => server.close())
      .then(() => namespace.close());
    return closed;
  };
  return {
    host,
    port,
    connectionString: `Endpoint=sb://${connectionHost}:${port};SharedAccessKeyName=${keyName};SharedAccessKey=${key};UseDevelopmentEmulator=true;`,
    httpPort: listening.httpPort,
    tlsPort: listening.tlsPort,
    caPath: plane.tls?.caPath,
    fullyQualifiedNamespace: listening.tlsPort === undefined ? undefined : `localhost:${listening.tlsPort}`,
    clock,
    snapshot: () => namespace.snapshot(server.connectionCount),
    close,
    [Symbol.asyncDispose]: close,
  };
}
