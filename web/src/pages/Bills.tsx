import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, download, mutate, query } from '../api';
import { signalOk, signalRefused } from '../feedback';
import { errorText, rejectionText } from '../messages';
import type { PageProps } from './types';
import Scroll from './Scroll';

interface Bill {
  id: string; billNumber: string; status: string; capacity: number; parentBagCount: number; childBagCount: number;
  totalWeightKg: number; expectedWeightKg: number; destination: string | null; vehicleNumber: string | null;
  description: string | null; createdAt: string; completedAt: string | null;
}
interface ParentRow { qr: string; childCount: number; weightKg: number; status: string; area: { name: string } | null }

const billFields = `id billNumber status capacity parentBagCount childBagCount totalWeightKg expectedWeightKg
  destination vehicleNumber description createdAt completedAt`;

const problem = (e: unknown) => `${errorText((e as ApiError).code)} ${(e as ApiError).message}`;

/** The bills export (query: its parameters) as CSV and as Excel, saved as name.csv / name.xlsx. */
function ExportButtons({ query: params, name, onError }: { query: string; name: string; onError: (message: string) => void }) {
  return (
    <>
      {(['csv', 'xlsx'] as const).map((format) => (
        <button key={format} type="button"
          onClick={() => download(`/export/bills.${format}${params}`, `${name}.${format}`).catch((e) => onError(problem(e)))}>
          {format === 'csv' ? 'Export CSV' : 'Export Excel'}
        </button>
      ))}
    </>
  );
}

export default function Bills({ args }: PageProps) {
  return args[0] ? <BillPage id={args[0]} /> : <BillList />;
}

function BillList() {
  const [bills, setBills] = useState<Bill[]>([]);
  const [search, setSearch] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState({ billNumber: '', capacity: '10', destination: '', vehicleNumber: '' });

  const load = useCallback(() => {
    query<{ bills: { edges: { node: Bill }[] } }>(
      `query($f: BillFilter) { bills(filter: $f, first: 50) { edges { node { ${billFields} } } } }`,
      { f: search ? { search } : null },
    ).then((r) => setBills(r.bills.edges.map((e) => e.node)), (e) => setError(problem(e)));
  }, [search]);
  useEffect(load, [load]);

  async function create(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const r = await mutate<{ createBill: Bill }>(`mutation($i: CreateBillInput!) { createBill(input: $i) { id } }`, {
        i: { billNumber: form.billNumber, capacity: Number(form.capacity), destination: form.destination || null, vehicleNumber: form.vehicleNumber || null },
      });
      location.hash = `#/bills/${encodeURIComponent(r.createBill.id)}`;
    } catch (err) {
      setError(problem(err));
    }
  }
  const field = (k: keyof typeof form) => ({ value: form[k], onChange: (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.value }) });

  return (
    <div className="bills-page">
      <h1>Bill desk</h1>
      <form className="inline" onSubmit={create} aria-label="New bill">
        <h2>New bill</h2>
        <label>Bill number <input name="billNumber" required minLength={3} maxLength={50} {...field('billNumber')} /></label>
        <label>Capacity (parent bags) <input name="capacity" type="number" min={1} max={500} required {...field('capacity')} /></label>
        <label>Destination <input name="destination" {...field('destination')} /></label>
        <label>Vehicle <input name="vehicleNumber" {...field('vehicleNumber')} /></label>
        <button type="submit">Create bill</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      <div className="toolbar">
        <h2>Bills</h2>
        <label>Search <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} /></label>
        <ExportButtons query={search ? `?search=${encodeURIComponent(search)}` : ''} name="bills" onError={setError} />
      </div>
      <Scroll label="Bills">
        <table>
          <thead><tr><th>Bill</th><th>Status</th><th>Parent bags</th><th>Weight</th><th>Destination</th></tr></thead>
          <tbody>
            {bills.map((b) => (
              <tr key={b.id}>
                <td><a href={`#/bills/${encodeURIComponent(b.id)}`}>{b.billNumber}</a></td>
                <td>{b.status.replace('_', ' ').toLowerCase()}</td>
                <td>{b.parentBagCount}/{b.capacity} <progress max={b.capacity} value={b.parentBagCount} aria-label={`${b.billNumber} progress`} /></td>
                <td>{b.totalWeightKg} / {b.expectedWeightKg} kg</td>
                <td>{b.destination ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </div>
  );
}

function BillPage({ id }: { id: string }) {
  const [bill, setBill] = useState<Bill | null>(null);
  const [parents, setParents] = useState<ParentRow[]>([]);
  const [feedback, setFeedback] = useState<{ ok: boolean; text: string; n: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const load = useCallback(() => {
    query<{ bill: (Bill & { parentBags: { edges: { node: ParentRow }[] } }) | null }>(
      `query($id: ID!) { bill(id: $id) { ${billFields}
         parentBags(first: 100) { edges { node { qr childCount weightKg status area { name } } } } } }`, { id },
    ).then((r) => {
      if (!r.bill) return setError('This bill does not exist (it may have been deleted).');
      setBill(r.bill);
      setParents(r.bill.parentBags.edges.map((e) => e.node));
    }, (e) => setError(problem(e)));
  }, [id]);
  useEffect(load, [load]);

  const say = (ok: boolean, text: string) => {
    setFeedback((f) => ({ ok, text, n: (f?.n ?? 0) + 1 }));
    (ok ? signalOk : signalRefused)();
  };

  async function scan(e: React.FormEvent) {
    e.preventDefault();
    const qr = input.current!.value.trim();
    input.current!.value = '';
    if (!qr) return;
    try {
      const r = await mutate<{ linkBagsToBill: { bill: Bill; linked: { qr: string }[]; alreadyLinked: { qr: string }[]; rejected: { qr: string; code: string; message: string }[] } }>(
        `mutation($b: ID!, $q: [String!]!) { linkBagsToBill(billId: $b, parentQrs: $q) { bill { ${billFields} }
           linked { qr } alreadyLinked { qr } rejected { qr code message } } }`, { b: id, q: [qr] });
      const res = r.linkBagsToBill;
      setBill(res.bill);
      const rej = res.rejected[0];
      if (rej) say(false, `Refused ${rej.qr}: ${rejectionText(rej.code)} (${rej.message})`);
      else if (res.alreadyLinked.length) say(true, `${res.alreadyLinked[0].qr} is already on this bill.`);
      else say(true, `Loaded ${res.linked[0].qr}: ${res.bill.parentBagCount}/${res.bill.capacity} parent bags, ${res.bill.totalWeightKg} kg.`);
      load();
    } catch (err) {
      say(false, problem(err));
    }
  }

  async function act(doc: string, done: string) {
    setError(null);
    try {
      await mutate(doc, { id });
      say(true, done);
      load();
    } catch (err) {
      setError(problem(err));
    }
  }

  async function unlink(qr: string) {
    try {
      await mutate(`mutation($b: ID!, $q: String!) { unlinkBagFromBill(billId: $b, parentQr: $q) { id } }`, { b: id, q: qr });
      say(true, `Took ${qr} off the bill.`);
      load();
    } catch (err) {
      setError(problem(err));
    }
  }

  if (!bill) return <div>{error ? <p className="error" role="alert">{error}</p> : <p>Loading…</p>}<a href="#/bills">All bills</a></div>;
  const completed = bill.status === 'COMPLETED';
  return (
    <div className="bill-page">
      <p><a href="#/bills">← All bills</a></p>
      <h1>Bill {bill.billNumber} <span className={`badge ${bill.status.toLowerCase()}`} data-testid="bill-status">{bill.status.replace('_', ' ').toLowerCase()}</span></h1>
      <section className="stats" aria-label="Bill progress">
        <div className="stat"><span className="v" data-testid="bill-count">{bill.parentBagCount}/{bill.capacity}</span><span className="l">parent bags</span></div>
        <div className="stat"><span className="v" data-testid="bill-weight">{bill.totalWeightKg} kg</span><span className="l">of {bill.expectedWeightKg} kg expected</span></div>
        <div className="stat"><span className="v">{bill.childBagCount}</span><span className="l">child bags</span></div>
      </section>
      <progress className="wide" max={bill.capacity} value={bill.parentBagCount} aria-label="Parent bags loaded" />
      <p className="muted">{[bill.destination, bill.vehicleNumber, bill.description].filter(Boolean).join(' · ')}</p>
      {!completed && (
        <form onSubmit={scan} className="scanform">
          <label htmlFor="billscan">Scan a parent bag onto this bill</label>
          <input id="billscan" ref={input} autoFocus autoComplete="off" spellCheck={false} />
        </form>
      )}
      {feedback && <div key={feedback.n} role="status" data-testid="bill-feedback" className={`feedback flash ${feedback.ok ? 'ok' : 'bad'}`}>{feedback.text}</div>}
      {error && <p className="error" role="alert">{error}</p>}
      <div className="actions">
        {completed
          ? <button type="button" onClick={() => act(`mutation($id: ID!) { reopenBill(id: $id) { id } }`, 'Bill reopened: parent bags can be added or removed again.')}>Reopen bill</button>
          : <button type="button" onClick={() => act(`mutation($id: ID!) { completeBill(id: $id) { id } }`, 'Bill completed: it is frozen until reopened.')} disabled={bill.parentBagCount === 0}>Complete bill</button>}
        <ExportButtons query={`?search=${encodeURIComponent(bill.billNumber)}`} name={`bill-${bill.billNumber}`} onError={setError} />
      </div>
      <h2>Parent bags on this bill</h2>
      <Scroll label="Parent bags on this bill">
        <table data-testid="bill-parents">
          <thead><tr><th>Parent bag</th><th>Children</th><th>Weight</th><th>Area</th><th><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {parents.map((p) => (
              <tr key={p.qr}>
                <td><a href={`#/bags/${encodeURIComponent(p.qr)}`}>{p.qr}</a></td><td>{p.childCount}</td><td>{p.weightKg} kg</td><td>{p.area?.name ?? ''}</td>
                <td>{!completed && <button type="button" className="link" onClick={() => unlink(p.qr)}>Take off</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </div>
  );
}
