import { StrictMode, Suspense, lazy, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, mutate } from './api';
import { errorText } from './messages';
import { loadSession, onSessionChange, saveSession, type Role, type Session } from './session';
import './style.css';

// Each page is its own chunk: a station downloads only the station.
const pages = {
  station: lazy(() => import('./pages/Station')),
  dashboard: lazy(() => import('./pages/Dashboard')),
  bills: lazy(() => import('./pages/Bills')),
  bags: lazy(() => import('./pages/Bags')),
  admin: lazy(() => import('./pages/Admin')),
};
type PageName = keyof typeof pages;

const nav: { page: PageName; label: string; roles: Role[] }[] = [
  { page: 'station', label: 'Scanner station', roles: ['ADMIN', 'BILLER', 'DISPATCHER'] },
  { page: 'dashboard', label: 'Dashboard', roles: ['ADMIN', 'BILLER', 'DISPATCHER'] },
  { page: 'bills', label: 'Bill desk', roles: ['ADMIN', 'BILLER'] },
  { page: 'bags', label: 'Bags', roles: ['ADMIN', 'BILLER', 'DISPATCHER'] },
  { page: 'admin', label: 'Admin', roles: ['ADMIN'] },
];

/** The route is the hash: #/station, #/bills/<id>, #/bags/<qr>. */
function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function useSession(): Session | null {
  const [s, set] = useState(loadSession);
  useEffect(() => onSessionChange(set), []);
  return s;
}

function Login() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await mutate<{ login: Session }>(
        `mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) {
           token expiresAt user { id username role area { code name } } } }`,
        { u: username, p: password },
      );
      saveSession(r.login);
    } catch (err) {
      const e = err as ApiError;
      setError(e.code === 'UNAUTHENTICATED' ? 'Wrong username or password. Check both and try again.' : `${errorText(e.code)} ${e.message}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="login">
      <h1>TraceTrack</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <button type="submit" disabled={busy}>Sign in</button>
        {error && <p className="error" role="alert">{error}</p>}
      </form>
    </main>
  );
}

async function signOut() {
  try {
    await mutate(`mutation { logout }`);
  } catch {
    // signed out locally either way
  }
  saveSession(null);
}

function Shell({ session, children, page }: { session: Session; children: ReactNode; page: PageName }) {
  const role = session.user.role;
  return (
    <>
      <header className="top">
        <span className="brand">TraceTrack</span>
        <nav aria-label="Pages">
          {nav.filter((n) => n.roles.includes(role)).map((n) => (
            <a key={n.page} href={`#/${n.page}`} aria-current={n.page === page ? 'page' : undefined}>{n.label}</a>
          ))}
          <a href="/graphiql">GraphiQL</a>
        </nav>
        <span className="who">
          {session.user.username} · {role.toLowerCase()}{session.user.area ? ` · ${session.user.area.name}` : ''}
          <button type="button" className="link" onClick={signOut}>Sign out</button>
        </span>
      </header>
      <main className={`page page-${page}`}>{children}</main>
    </>
  );
}

function App() {
  const session = useSession();
  const route = useRoute();
  if (!session) return <Login />;
  const allowed = nav.filter((n) => n.roles.includes(session.user.role)).map((n) => n.page);
  const fallback: PageName = session.user.role === 'BILLER' ? 'bills' : session.user.role === 'ADMIN' ? 'dashboard' : 'station';
  const page = (allowed.includes(route[0] as PageName) ? route[0] : fallback) as PageName;
  const Page = pages[page];
  return (
    <Shell session={session} page={page}>
      <Suspense fallback={<p>Loading…</p>}>
        <Page session={session} args={route.slice(1)} />
      </Suspense>
    </Shell>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
