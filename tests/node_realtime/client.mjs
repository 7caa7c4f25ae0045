// The real @azure/web-pubsub-client, driven by tests/e2e/test_realtime_node.py against devhost.
//
//   node client.mjs <api base URL> <user id> <json|reliable>
//
// It negotiates (GET /api/realtime/negotiate with dev auth) for its client access URL, connects, and
// prints one JSON line per thing that happens: {"kind": "connected"|"group-message"|"server-message"|
// "join-refused"|"join-accepted"|"stopped", ...}. A line "join <group>" on stdin tries to join a group;
// "stop" (or the end of stdin) stops the client.
import { createInterface } from "node:readline";
import {
  WebPubSubClient,
  WebPubSubJsonProtocol,
  WebPubSubJsonReliableProtocol,
} from "@azure/web-pubsub-client";

const [api, user, protocolName] = process.argv.slice(2);
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const client = new WebPubSubClient(
  {
    getClientAccessUrl: async () => {
      const reply = await fetch(`${api}/realtime/negotiate`, {
        headers: { Authorization: `Bearer dev:${user}` },
      });
      if (!reply.ok) throw new Error(`negotiate answered ${reply.status}`);
      return (await reply.json()).url;
    },
  },
  {
    protocol: protocolName === "json" ? WebPubSubJsonProtocol() : WebPubSubJsonReliableProtocol(),
    autoReconnect: false,
  },
);
client.on("connected", (e) => print({ kind: "connected", userId: e.userId, connectionId: e.connectionId }));
client.on("group-message", (e) =>
  print({ kind: "group-message", group: e.message.group, dataType: e.message.dataType, data: e.message.data }),
);
client.on("server-message", (e) =>
  print({ kind: "server-message", dataType: e.message.dataType, data: e.message.data }),
);
client.on("stopped", () => print({ kind: "stopped" }));

await client.start();

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, argument] = line.trim().split(" ");
  if (command === "join") {
    try {
      await client.joinGroup(argument);
      print({ kind: "join-accepted", group: argument });
    } catch (err) {
      print({ kind: "join-refused", group: argument, error: err?.errorDetail?.name ?? String(err) });
    }
  } else if (command === "stop") {
    break;
  }
}
client.stop();
