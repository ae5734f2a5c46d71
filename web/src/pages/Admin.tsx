import { useCallback, useEffect, useState } from 'react';
import { ApiError, mutate, query } from '../api';
import { errorText } from '../messages';
import type { Role } from '../session';
import type { PageProps } from './types';
import Scroll from './Scroll';

interface User {
  id: string; username: string; email: string | null; role: Role; active: boolean;
  area: { code: string; name: string } | null; lastLoginAt: string | null;
}
interface Area { code: string; name: string }
interface Integrity { ok: boolean; checkedAt: string; problems: { kind: string; entityId: string; detail: string }[] }

const userFields = 'id username email role active area { code name } lastLoginAt';
const roles: Role[] = ['DISPATCHER', 'BILLER', 'ADMIN'];
const problem = (e: unknown) => `${errorText((e as ApiError).code)} ${(e as ApiError).message}`;

export default function Admin(_: PageProps) {
  const [users, setUsers] = useState<User[]>([]);
  const [areas, setAreas] = useState<Area[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [integrity, setIntegrity] = useState<Integrity | null>(null);
  const [form, setForm] = useState({ username: '', email: '', password: '', role: 'DISPATCHER' as Role, areaCode: '' });

  const load = useCallback(() => {
    query<{ users: { edges: { node: User }[] }; areas: Area[] }>(`{ users(first: 100) { edges { node { ${userFields} } } } areas { code name } }`)
      .then((r) => {
        setUsers(r.users.edges.map((e) => e.node));
        setAreas(r.areas);
      }, (e) => setMessage({ ok: false, text: problem(e) }));
  }, []);
  useEffect(load, [load]);

  async function run(doc: string, variables: Record<string, unknown>, done: string) {
    try {
      await mutate(doc, variables);
      setMessage({ ok: true, text: done });
      load();
      return true;
    } catch (e) {
      setMessage({ ok: false, text: problem(e) });
      return false;
    }
  }

  async function create(e: React.FormEvent) {
    e.preventDefault();
    const ok = await run(`mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
      i: { username: form.username, email: form.email || null, password: form.password, role: form.role, areaCode: form.role === 'DISPATCHER' ? form.areaCode : null },
    }, `Created ${form.username}.`);
    if (ok) setForm({ ...form, username: '', email: '', password: '' });
  }

  const update = (u: User, input: Record<string, unknown>, done: string) =>
    run(`mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }`, { id: u.id, i: input }, done);

  async function check() {
    try {
      setIntegrity((await query<{ integrity: Integrity }>(`{ integrity { ok checkedAt problems { kind entityId detail } } }`)).integrity);
    } catch (e) {
      setMessage({ ok: false, text: problem(e) });
    }
  }

  return (
    <div className="admin-page">
      <h1>Admin</h1>
      {message && <p className={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="admin-message">{message.text}</p>}
      <form className="inline" onSubmit={create} aria-label="New user">
        <h2>New user</h2>
        <label>Username <input name="username" required value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} /></label>
        <label>Email <input name="email" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} /></label>
        <label>Password <input name="password" type="password" autoComplete="new-password" required value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} /></label>
        <label>Role <select name="role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>{roles.map((r) => <option key={r}>{r}</option>)}</select></label>
        {form.role === 'DISPATCHER' && (
          <label>Area <select name="areaCode" required value={form.areaCode} onChange={(e) => setForm({ ...form, areaCode: e.target.value })}>
            <option value="">choose…</option>{areas.map((a) => <option key={a.code} value={a.code}>{a.name}</option>)}</select></label>
        )}
        <button type="submit">Create user</button>
        <p className="muted">Passwords: 8 to 72 characters with an upper-case and a lower-case letter, a digit and a symbol (no tabs or line breaks).</p>
      </form>
      <h2>Users</h2>
      <Scroll label="Users">
        <table className="users" data-testid="users">
          <thead><tr><th>User</th><th>Role</th><th>Area</th><th>Status</th><th>Last sign-in</th><th>Actions</th></tr></thead>
          <tbody>{users.map((u) => <UserRow key={u.id} user={u} areas={areas} update={update} run={run} />)}</tbody>
        </table>
      </Scroll>
      <h2>Integrity</h2>
      <button type="button" onClick={check}>Run the integrity check</button>
      {integrity && (
        <div data-testid="integrity" className={integrity.ok ? 'notice' : 'error'}>
          {integrity.ok ? `All counters and invariants agree (checked ${new Date(integrity.checkedAt).toLocaleString()}).` : `${integrity.problems.length} problem(s):`}
          <ul>{integrity.problems.map((p, i) => <li key={i}><code>{p.kind}</code> {p.entityId}: {p.detail}</li>)}</ul>
        </div>
      )}
    </div>
  );
}

function UserRow({ user: u, areas, update, run }: {
  user: User; areas: Area[];
  update: (u: User, input: Record<string, unknown>, done: string) => Promise<boolean>;
  run: (doc: string, v: Record<string, unknown>, done: string) => Promise<boolean>;
}) {
  const [password, setPassword] = useState('');
  return (
    <tr data-user={u.username}>
      <td><strong>{u.username}</strong>{u.email && <div className="muted">{u.email}</div>}</td>
      <td>
        <select aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => {
          const role = e.target.value as Role;
          void update(u, role === 'DISPATCHER' ? { role, areaCode: areas[0]?.code } : { role }, `${u.username} is now ${role.toLowerCase()}.`);
        }}>{roles.map((r) => <option key={r}>{r}</option>)}</select>
      </td>
      <td>
        {u.role === 'DISPATCHER' ? (
          <select aria-label={`Area of ${u.username}`} value={u.area?.code ?? ''} onChange={(e) => update(u, { areaCode: e.target.value }, `${u.username} moved to ${e.target.value}.`)}>
            {areas.map((a) => <option key={a.code} value={a.code}>{a.name}</option>)}
          </select>
        ) : '—'}
      </td>
      <td>{u.active ? 'active' : 'deactivated'}</td>
      <td>{u.lastLoginAt ? new Date(u.lastLoginAt).toLocaleString() : 'never'}</td>
      <td className="row-actions">
        <button type="button" onClick={() => update(u, { active: !u.active }, `${u.username} ${u.active ? 'deactivated' : 'activated'}.`)}>{u.active ? 'Deactivate' : 'Activate'}</button>
        <button type="button" onClick={() => run(`mutation($id: ID!) { unlockUser(id: $id) { id } }`, { id: u.id }, `${u.username} unlocked: they can sign in again.`)}>Unlock</button>
        <form className="pw" onSubmit={async (e) => {
          e.preventDefault();
          if (await update(u, { password }, `New password set for ${u.username}.`)) setPassword('');
        }}>
          <input type="password" aria-label={`New password for ${u.username}`} placeholder="new password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          <button type="submit">Set password</button>
        </form>
      </td>
    </tr>
  );
}
