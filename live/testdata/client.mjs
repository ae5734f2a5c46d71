// Subscribes with the real graphql-ws client (protocol graphql-transport-ws) and prints one
// JSON line per event: {"data": ...} for each result, {"error": ...} for an operation error,
// {"closed": code, "reason": ...} when the server closes the socket. It exits after COUNT
// results or when the socket closes. Run by live/client_test.go; settings come from the
// environment: URL, TOKEN, QUERY, VARIABLES (JSON), COUNT.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const count = Number(process.env.COUNT || '1');
const print = (v) => process.stdout.write(JSON.stringify(v) + '\n');

const client = createClient({
  url: process.env.URL,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${process.env.TOKEN}` },
  retryAttempts: 0,
  lazy: false,
  on: {
    connected: () => print({ connected: true }),
    closed: (event) => {
      print({ closed: event.code, reason: event.reason });
      process.exit(0);
    },
  },
});

let received = 0;
client.subscribe(
  { query: process.env.QUERY, variables: JSON.parse(process.env.VARIABLES || '{}') },
  {
    next: (result) => {
      print(result);
      if (++received >= count) {
        client.dispose();
        process.exit(0);
      }
    },
    error: (err) => {
      print({ error: err instanceof Error ? err.message : err });
    },
    complete: () => {},
  },
);
