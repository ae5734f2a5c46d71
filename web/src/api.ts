// The console talks to the public GraphQL API only: urql over HTTP for queries and
// mutations, graphql-ws (graphql-transport-ws) for subscriptions.
import { Client, fetchExchange, type CombinedError } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { authHeader, loadSession, onSessionChange, saveSession } from './session';

export const graphqlPath = '/graphql';

/** An error as the console shows it: the contract's code and a message for a person. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** true when the server could not be reached (offline, timeout): worth retrying. */
    readonly network = false,
  ) {
    super(message);
  }
}

const client = new Client({
  url: graphqlPath,
  exchanges: [fetchExchange],
  requestPolicy: 'network-only',
  preferGetMethod: false,
  fetchOptions: () => ({ headers: authHeader() }),
});

function toApiError(e: CombinedError): ApiError {
  const g = e.graphQLErrors[0];
  if (g) {
    const code = String(g.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
    if (code === 'UNAUTHENTICATED' && loadSession()) {
      saveSession(null); // the token expired or was revoked: sign in again
    }
    return new ApiError(g.message, code);
  }
  return new ApiError('The server cannot be reached. Check the network; your work is kept.', 'NETWORK', true);
}

export async function query<T>(doc: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await client.query<T>(doc, variables).toPromise();
  if (r.error) throw toApiError(r.error);
  return r.data as T;
}

export async function mutate<T>(doc: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await client.mutation<T>(doc, variables).toPromise();
  if (r.error) throw toApiError(r.error);
  return r.data as T;
}

export function wsUrl(): string {
  const u = new URL(graphqlPath, location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

let ws: WsClient | null = null;

function signedOutBy(e: unknown): boolean {
  const code = (e as { code?: number } | null)?.code;
  return code === 4401 || code === 4403;
}

/** The shared subscription socket, authenticated with the current token. */
export function socket(): WsClient {
  if (!ws) {
    ws = createWsClient({
      url: wsUrl(),
      connectionParams: () => authHeader(),
      retryAttempts: Infinity,
      // 4401/4403: the token expired or the user's rights changed (the server closes open
      // sockets when they do): sign in again rather than retry with the same token.
      shouldRetry: (e) => !signedOutBy(e),
      on: {
        closed: (e) => {
          if (signedOutBy(e)) saveSession(null);
        },
      },
      retryWait: async (retries) => {
        await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** retries, 5000)));
      },
    });
  }
  return ws;
}

onSessionChange(() => {
  ws?.dispose(); // a new user gets a new socket
  ws = null;
});

export interface Sub<T> {
  query: string;
  variables: Record<string, unknown>;
  next: (data: T) => void;
  error?: (e: ApiError) => void;
}

/** Subscribes; returns the unsubscribe function. */
export function subscribe<T>({ query: doc, variables, next, error }: Sub<T>): () => void {
  return socket().subscribe<T>(
    { query: doc, variables },
    {
      next: (r) => {
        if (r.errors?.length) {
          const g = r.errors[0];
          error?.(new ApiError(g.message, String(g.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
        } else if (r.data) next(r.data as T);
      },
      error: () => error?.(new ApiError('The live connection failed; retrying.', 'NETWORK', true)),
      complete: () => {},
    },
  );
}

/** Downloads an export (CSV, Excel) with the bearer token (a plain link cannot send the header). */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: authHeader() });
  if (!res.ok) {
    // exports refuse with a plain-text reason
    const reason = (await res.text().catch(() => '')).trim();
    throw new ApiError(reason || `The export failed (HTTP ${res.status}).`, 'EXPORT');
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const me = `query Me { me { id username role area { code name } } }`;
