// GraphiQL for frontend developers: signed in as the console's user (the token is sent on
// HTTP and in connection_init), subscriptions over graphql-transport-ws.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import './graphiql.css';
import { createClient } from 'graphql-ws';
import { createRoot } from 'react-dom/client';
import { graphqlPath, wsUrl } from './api';
import { authHeader, loadSession } from './session';

const headers = authHeader();
const fetcher = createGraphiQLFetcher({
  url: graphqlPath,
  headers,
  wsClient: createClient({ url: wsUrl(), connectionParams: headers, lazy: true }),
});

const session = loadSession();
const defaultQuery = `# Signed in as ${session ? session.user.username : 'nobody: sign in on the console first (/)'}.
# Subscriptions (e.g. scanAdded) run over the websocket.
query {
  me { username role area { name } }
  stats { parentBags childBags scansToday }
}
`;

createRoot(document.getElementById('graphiql')!).render(
  <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery}>
    <GraphiQL.Logo>
      <a className="tt-logo" href="/">TraceTrack</a> GraphiQL
    </GraphiQL.Logo>
  </GraphiQL>,
);

// Accessibility fixes GraphiQL's own markup needs (axe-core, in the end-to-end test): its
// CodeMirror text areas carry no label, its scrolling editors take no focus, a tab holding a
// close button is an interactive element inside another.
const editorNames: [string, string][] = [
  ['.graphiql-query-editor', 'GraphQL query'],
  ['.graphiql-editor-tool .graphiql-editor:nth-child(1)', 'Variables (JSON)'],
  ['.graphiql-editor-tool .graphiql-editor:nth-child(2)', 'Headers (JSON)'],
  ['.graphiql-response', 'Response'],
];
function labelGraphiQL(root: HTMLElement) {
  for (const [selector, name] of editorNames) {
    root.querySelectorAll<HTMLTextAreaElement>(`${selector} textarea:not([aria-label])`).forEach((t) => t.setAttribute('aria-label', name));
  }
  root.querySelectorAll('textarea:not([aria-label])').forEach((t) => t.setAttribute('aria-label', 'Editor'));
  root.querySelectorAll('.CodeMirror-scroll:not([tabindex="0"])').forEach((s) => s.setAttribute('tabindex', '0'));
  root.querySelectorAll('[role="tablist"]').forEach((list) => list.removeAttribute('role'));
  root.querySelectorAll('li[role="tab"]').forEach((li) => {
    li.removeAttribute('role');
    li.removeAttribute('aria-selected');
  });
}
const root = document.getElementById('graphiql')!;
new MutationObserver(() => labelGraphiQL(root)).observe(root, { childList: true, subtree: true });
