import { useEffect, useState } from 'react';
import { ApiError, query } from '../api';
import { errorText } from '../messages';
import type { PageProps } from './types';
import Scroll from './Scroll';

interface BagRef { qr: string }
interface Bag {
  qr: string; type: string; status: string; weightKg: number; childCount: number; createdAt: string;
  area: { name: string } | null; createdBy: { username: string } | null;
  parent: BagRef | null; bill: { id: string; billNumber: string; status: string } | null;
  children: { totalCount: number; edges: { node: { qr: string; createdAt: string; createdBy: { username: string } | null } }[] };
  scans: { edges: { node: { id: string; kind: string; at: string; bagQr: string; user: { username: string } | null; parent: BagRef | null } }[] };
}

const bagQuery = `query($qr: String!) { bag(qr: $qr) {
  qr type status weightKg childCount createdAt area { name } createdBy { username }
  parent { qr } bill { id billNumber status }
  children(first: 30) { totalCount edges { node { qr createdAt createdBy { username } } } }
  scans(first: 20) { edges { node { id kind at bagQr user { username } parent { qr } } } } } }`;

const when = (t: string) => new Date(t).toLocaleString();

export default function Bags({ args }: PageProps) {
  const qr = args[0] ?? '';
  const [text, setText] = useState(qr);
  const [bag, setBag] = useState<Bag | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setText(qr);
    setError(null);
    if (!qr) return setBag(undefined);
    query<{ bag: Bag | null }>(bagQuery, { qr }).then((r) => setBag(r.bag), (e: ApiError) => {
      setBag(undefined);
      setError(`${errorText(e.code)} ${e.message}`);
    });
  }, [qr]);

  const go = (e: React.FormEvent) => {
    e.preventDefault();
    location.hash = `#/bags/${encodeURIComponent(text.trim())}`;
  };
  const link = (q: string) => <a href={`#/bags/${encodeURIComponent(q)}`}><code>{q}</code></a>;

  return (
    <div className="bags-page">
      <h1>Find a bag</h1>
      <form onSubmit={go} className="scanform" role="search">
        <label htmlFor="bagqr">QR of a parent or child bag</label>
        <input id="bagqr" value={text} onChange={(e) => setText(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {bag === null && <p className="error" role="alert">No bag with the QR {qr} (or it is in another area). Check the label and try again.</p>}
      {bag && (
        <article className="bag" data-testid="bag">
          <h2>{bag.type === 'PARENT' ? 'Parent' : 'Child'} bag <code>{bag.qr}</code> <span className="badge">{bag.status.replace('_', ' ').toLowerCase()}</span></h2>
          <dl>
            <dt>Area</dt><dd>{bag.area?.name ?? 'none'}</dd>
            <dt>Weight</dt><dd>{bag.weightKg} kg</dd>
            {bag.type === 'PARENT' && <><dt>Children</dt><dd>{bag.childCount}</dd></>}
            {bag.parent && <><dt>In parent</dt><dd>{link(bag.parent.qr)}</dd></>}
            <dt>Bill</dt><dd>{bag.bill ? <a href={`#/bills/${encodeURIComponent(bag.bill.id)}`}>{bag.bill.billNumber}</a> : 'none'}</dd>
            <dt>Created</dt><dd>{when(bag.createdAt)}{bag.createdBy ? ` by ${bag.createdBy.username}` : ''}</dd>
          </dl>
          {bag.type === 'PARENT' && (
            <>
              <h3>Children ({bag.children.totalCount})</h3>
              <ol className="children">
                {bag.children.edges.map(({ node: c }) => <li key={c.qr}>{link(c.qr)} <span className="muted">{when(c.createdAt)}{c.createdBy ? ` · ${c.createdBy.username}` : ''}</span></li>)}
              </ol>
            </>
          )}
          <h3>Scans</h3>
          <Scroll label="Scans of this bag">
            <table>
              <thead><tr><th>When</th><th>What</th><th>Who</th><th>Parent</th></tr></thead>
              <tbody>
                {bag.scans.edges.map(({ node: s }) => (
                  <tr key={s.id}><td>{when(s.at)}</td><td>{s.kind.toLowerCase().replace('_', ' ')}</td><td>{s.user?.username ?? ''}</td><td>{s.parent ? link(s.parent.qr) : ''}</td></tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        </article>
      )}
    </div>
  );
}
