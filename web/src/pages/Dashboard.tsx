import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, query, socket, subscribe } from '../api';
import { errorText } from '../messages';
import type { PageProps } from './types';
import Scroll from './Scroll';

interface Stats {
  parentBags: number; childBags: number; bills: number; openBills: number; inProgressBills: number;
  completedBills: number; totalScans: number; scansToday: number; users: number;
}
interface Scan {
  id: string; kind: string; at: string; bagQr: string;
  parent: { qr: string } | null; user: { username: string } | null; area: { code: string } | null;
}
interface Bill {
  id: string; billNumber: string; status: string; capacity: number; parentBagCount: number;
  totalWeightKg: number; expectedWeightKg: number;
}

const statsFields = 'parentBags childBags bills openBills inProgressBills completedBills totalScans scansToday users';
const scanFields = 'id kind at bagQr parent { qr } user { username } area { code }';
const billFields = 'id billNumber status capacity parentBagCount totalWeightKg expectedWeightKg';

const statLabels: [keyof Stats, string][] = [
  ['scansToday', 'Scans today'], ['parentBags', 'Parent bags'], ['childBags', 'Child bags'],
  ['inProgressBills', 'Bills in progress'], ['completedBills', 'Bills completed'], ['totalScans', 'Scans in all'],
];

export default function Dashboard({ session }: PageProps) {
  // A dispatcher sees their own area; the server refuses any other.
  const own = session.user.area?.code ?? null;
  const [area, setArea] = useState<string | null>(own);
  const [areas, setAreas] = useState<{ code: string; name: string }[]>([]);
  const [stats, setStats] = useState<Stats | null>(null);
  const [feed, setFeed] = useState<Scan[]>([]);
  const [bills, setBills] = useState<Bill[]>([]);
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [error, setError] = useState<string | null>(null);
  const [hours, setHours] = useState<{ key: string; count: number }[]>([]);
  const [summaryDue, setSummaryDue] = useState(0);
  const fail = (e: unknown) => setError(`${errorText((e as ApiError).code)} ${(e as ApiError).message}`);

  useEffect(() => {
    if (!own) query<{ areas: { code: string; name: string }[] }>(`{ areas { code name } }`).then((r) => setAreas(r.areas), fail);
  }, [own]);

  useEffect(() => {
    const offs = [
      socket().on('connected', () => setLive('live')),
      socket().on('closed', () => setLive('reconnecting')),
    ];
    return () => offs.forEach((o) => o());
  }, []);

  // Today's counters: one read, then every statsUpdated.
  useEffect(() => {
    setStats(null);
    query<{ stats: Stats }>(`query($a: String) { stats(areaCode: $a) { ${statsFields} } }`, { a: area }).then((r) => setStats(r.stats), fail);
    return subscribe<{ statsUpdated: Stats }>({
      query: `subscription($a: String) { statsUpdated(areaCode: $a) { ${statsFields} } }`,
      variables: { a: area }, next: (d) => setStats(d.statsUpdated), error: fail,
    });
  }, [area]);

  // Scans per hour over the last day: read again a few seconds after live scans arrive
  // (one read for a burst), and each minute.
  useEffect(() => {
    if (summaryDue === 0) return;
    const t = setTimeout(() => setSummaryTick((n) => n + 1), 5000);
    return () => clearTimeout(t);
  }, [summaryDue]);
  const [summaryTick, setSummaryTick] = useState(0);
  useEffect(() => {
    const load = () => query<{ scanSummary: { key: string; count: number }[] }>(
      `query($from: Time, $a: String) { scanSummary(groupBy: HOUR, from: $from, areaCode: $a) { key count } }`,
      { from: new Date(Date.now() - 24 * 3600e3).toISOString(), a: area },
    ).then((r) => setHours(r.scanSummary), fail);
    void load();
    const t = setInterval(load, 60e3);
    return () => clearInterval(t);
  }, [area, summaryTick]);

  // The live scan feed: the latest scans, then scanAdded from the newest one on. The
  // subscription's variables are the object graphql-ws sends again on every reconnect, so
  // keeping `after` at the last scan seen makes a reconnect resume exactly there.
  useEffect(() => {
    let stop = () => {};
    let cancelled = false;
    const seen = new Set<string>();
    query<{ scans: { edges: { node: Scan }[] } }>(
      `query($f: ScanFilter) { scans(filter: $f, first: 15) { edges { node { ${scanFields} } } } }`, { f: { areaCode: area } },
    ).then((r) => {
      if (cancelled) return;
      const initial = r.scans.edges.map((e) => e.node);
      initial.forEach((s) => seen.add(s.id));
      setFeed(initial);
      const variables: { a: string | null; after: string | null } = { a: area, after: initial[0]?.id ?? null };
      stop = subscribe<{ scanAdded: Scan }>({
        query: `subscription($a: String, $after: ID) { scanAdded(areaCode: $a, after: $after) { ${scanFields} } }`,
        variables,
        next: ({ scanAdded: s }) => {
          variables.after = s.id;
          if (seen.has(s.id)) return;
          seen.add(s.id);
          setFeed((f) => [s, ...f].slice(0, 50));
          setSummaryDue((n) => n + 1);
        },
        error: fail,
      });
    }, fail);
    return () => {
      cancelled = true;
      stop();
    };
  }, [area]);

  // Bills in progress with their progress, kept current by billUpdated.
  useEffect(() => {
    query<{ bills: { edges: { node: Bill }[] } }>(
      `{ bills(filter: { status: IN_PROGRESS }, first: 20) { edges { node { ${billFields} } } } }`,
    ).then((r) => setBills(r.bills.edges.map((e) => e.node)), fail);
    return subscribe<{ billUpdated: Bill }>({
      query: `subscription { billUpdated { ${billFields} } }`, variables: {},
      next: ({ billUpdated: b }) => setBills((list) => {
        const rest = list.filter((x) => x.id !== b.id);
        return b.status === 'IN_PROGRESS' ? [b, ...rest] : rest;
      }),
      error: fail,
    });
  }, []);

  return (
    <div className="dashboard">
      <div className="toolbar">
        <h1>Dashboard {area ? `· ${area}` : '· all areas'}</h1>
        {!own && (
          <label>Area{' '}
            <select value={area ?? ''} onChange={(e) => setArea(e.target.value || null)}>
              <option value="">All areas</option>
              {areas.map((a) => <option key={a.code} value={a.code}>{a.name}</option>)}
            </select>
          </label>
        )}
        <span className={`live ${live}`} data-testid="live">{live === 'live' ? '● live' : live === 'connecting' ? 'connecting…' : 'reconnecting…'}</span>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <section className="stats" aria-label="Counters">
        {statLabels.map(([k, label]) => (
          <div key={k} className="stat"><span className="v" data-testid={`stat-${k}`}>{stats ? stats[k].toLocaleString() : '…'}</span><span className="l">{label}</span></div>
        ))}
      </section>
      <div className="grid2">
        <section aria-label="Scans per hour">
          <h2>Scans per hour (last 24 h)</h2>
          <HourChart data={hours} />
        </section>
        <section aria-label="Bills in progress">
          <h2>Bills in progress</h2>
          {bills.length === 0 && <p className="muted">None.</p>}
          <ul className="bills">
            {bills.map((b) => (
              <li key={b.id}>
                <a href={`#/bills/${encodeURIComponent(b.id)}`}>{b.billNumber}</a> {b.parentBagCount}/{b.capacity} bags · {b.totalWeightKg} kg
                <progress max={b.capacity} value={b.parentBagCount} aria-label={`${b.billNumber} progress`} />
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section aria-label="Live scans">
        <h2>Live scans</h2>
        <Scroll label="Live scans">
          <table className="feed" data-testid="feed">
            <thead><tr><th>Time</th><th>What</th><th>Bag</th><th>Parent</th><th>Who</th><th>Area</th></tr></thead>
            <tbody>
              {feed.map((s) => (
                <tr key={s.id}>
                  <td>{new Date(s.at).toLocaleTimeString()}</td><td>{s.kind.toLowerCase().replace('_', ' ')}</td>
                  <td><code>{s.bagQr}</code></td><td>{s.parent?.qr ?? ''}</td><td>{s.user?.username ?? ''}</td><td>{s.area?.code ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      </section>
    </div>
  );
}

function HourChart({ data }: { data: { key: string; count: number }[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    // Keys are the server's hours (YYYY-MM-DDTHH in the business time zone): one bar per
    // hour for the 24 hours up to the latest key, hours without scans at zero.
    const counts = new Map(data.map((d) => [d.key, d.count]));
    const latest = [...counts.keys()].sort().pop();
    const end = latest ? Date.parse(`${latest}:00:00Z`) : Math.floor(Date.now() / 3600e3) * 3600e3;
    const keys = Array.from({ length: 24 }, (_, i) => new Date(end - (23 - i) * 3600e3).toISOString().slice(0, 13));
    const xs = keys.map((_, i) => i);
    const ys = keys.map((k) => counts.get(k) ?? 0);
    const labels = keys.map((k) => `${k.slice(11, 13)}h`);
    plot.current?.destroy();
    plot.current = new uPlot({
      width: Math.max(280, box.current!.clientWidth), height: 200,
      scales: { x: { time: false } },
      series: [{}, { label: 'scans', stroke: '#15803d', fill: 'rgba(21,128,61,.35)', points: { show: false }, paths: uPlot.paths.bars!({ size: [0.8] }) }],
      axes: [{ values: (_u, splits) => splits.map((i) => labels[i] ?? '') }, { size: 48 }],
      legend: { show: false },
    }, [xs, ys], box.current!);
  }, [data]);
  useEffect(() => () => plot.current?.destroy(), []);
  return <div ref={box} className="chart" role="img" aria-label={`Scans per hour: ${data.reduce((n, d) => n + d.count, 0)} in the last 24 hours`} />;
}
