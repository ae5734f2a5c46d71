// The signed-in user, kept in localStorage so a reload (and the GraphiQL page) keeps it.
export type Role = 'ADMIN' | 'BILLER' | 'DISPATCHER';

export interface Area {
  code: string;
  name: string;
}

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
  area: Area | null;
}

export interface Session {
  token: string;
  expiresAt: string;
  user: SessionUser;
}

const key = 'tracetrack.session';
const listeners = new Set<(s: Session | null) => void>();

export function loadSession(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(key) ?? 'null') as Session | null;
    if (s && new Date(s.expiresAt).getTime() > Date.now()) return s;
  } catch {
    // a damaged entry is the same as none
  }
  return null;
}

export function saveSession(s: Session | null): void {
  if (s) localStorage.setItem(key, JSON.stringify(s));
  else localStorage.removeItem(key);
  listeners.forEach((l) => l(s));
}

export function onSessionChange(l: (s: Session | null) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function authHeader(): Record<string, string> {
  const s = loadSession();
  return s ? { Authorization: `Bearer ${s.token}` } : {};
}
