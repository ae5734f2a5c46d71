import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, mutate } from '../api';
import { signalOk, signalRefused } from '../feedback';
import { errorText, rejectionText } from '../messages';
import * as outbox from '../outbox';
import { saveSession } from '../session';
import type { PageProps } from './types';

// The most children a parent holds (CHILDREN_PER_PARENT). The API does not publish it; a
// full bag is recognised by its COMPLETED status, so a different setting only changes the
// "of 30" in the display.
const capacity = 30;
const idleSeconds = Number(localStorage.getItem('tracetrack.idleSeconds') ?? 300);

interface Parent {
  qr: string;
  childCount: number;
  status: string;
}

interface Feedback {
  id: number;
  ok: boolean;
  title: string;
  detail?: string;
}

const bagFields = 'qr childCount status';

const scanParentDoc = `mutation ScanParent($qr: String!) { scanParent(qr: $qr) { ${bagFields} } }`;
const scanChildrenDoc = `mutation ScanChildren($p: String!, $c: [String!]!) {
  scanChildren(parentQr: $p, childQrs: $c) {
    parent { ${bagFields} } linked { qr } alreadyLinked { qr } rejected { qr code message } } }`;
const undoDoc = `mutation Undo { undoLastChildScan { parent { ${bagFields} } removedQr } }`;

interface ScanChildrenResult {
  parent: Parent;
  linked: { qr: string }[];
  alreadyLinked: { qr: string }[];
  rejected: { qr: string; code: string; message: string }[];
}

/** Worth keeping the scan and sending it again later: no answer, or the server is overloaded. */
function retryable(e: ApiError): boolean {
  return e.network || e.code === 'SERVICE_UNAVAILABLE' || e.code === 'RATE_LIMITED';
}

/** Scan-to-feedback times (ms), read by the end-to-end test. */
const timings: number[] = ((window as unknown as { __scanTimings: number[] }).__scanTimings = []);

export default function Station({ session }: PageProps) {
  const userId = session.user.id;
  const [parent, setParent] = useState<Parent | null>(null);
  const [feedback, setFeedback] = useState<Feedback | null>(null);
  const [pending, setPending] = useState<outbox.PendingScan[]>([]);
  const [recent, setRecent] = useState<{ qr: string; ok: boolean; text: string }[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const parentRef = useRef<Parent | null>(null);
  parentRef.current = parent;
  const chain = useRef<Promise<void>>(Promise.resolve());
  const started = useRef(new Map<number, number>());
  const seq = useRef(0);

  const show = useCallback((ok: boolean, title: string, detail?: string, scanId?: number) => {
    const id = scanId ?? ++seq.current;
    setFeedback({ id, ok, title, detail });
    (ok ? signalOk : signalRefused)();
  }, []);

  const note = (qr: string, ok: boolean, text: string) => setRecent((r) => [{ qr, ok, text }, ...r].slice(0, 8));

  const refreshPending = useCallback(async () => setPending(await outbox.all(userId)), [userId]);

  // Replays the outbox in order: one scanParent per parent, consecutive children of one
  // parent in one scanChildren call. Stops at the first network failure (tried again later).
  const drain = useCallback(async () => {
    for (;;) {
      const items = await outbox.all(userId);
      if (items.length === 0) break;
      const first = items[0];
      try {
        if (first.kind === 'parent') {
          const r = await mutate<{ scanParent: Parent }>(scanParentDoc, { qr: first.qr });
          if (parentRef.current?.qr === r.scanParent.qr) setParent(r.scanParent);
          await outbox.remove([first.seq!]);
        } else {
          const batch = [];
          for (const it of items) {
            if (it.kind !== 'child' || it.parentQr !== first.parentQr || batch.length === capacity) break;
            batch.push(it);
          }
          const r = await mutate<{ scanChildren: ScanChildrenResult }>(scanChildrenDoc, {
            p: first.parentQr, c: batch.map((b) => b.qr),
          });
          await outbox.remove(batch.map((b) => b.seq!));
          const res = r.scanChildren;
          if (parentRef.current?.qr === res.parent.qr) setParent(res.parent.status === 'COMPLETED' ? null : res.parent);
          res.rejected.forEach((x) => note(x.qr, false, `${rejectionText(x.code)} (${x.message})`));
          [...res.linked, ...res.alreadyLinked].forEach((x) => note(x.qr, true, 'sent'));
          if (res.rejected.length) show(false, `${res.rejected.length} pending scan(s) refused`, res.rejected.map((x) => `${x.qr}: ${rejectionText(x.code)}`).join(' '));
        }
      } catch (e) {
        // unreachable, overloaded or signed out: keep the scans and try again later
        if (e instanceof ApiError && (retryable(e) || e.code === 'UNAUTHENTICATED')) break;
        const err = e as ApiError;
        await outbox.remove([first.seq!]); // the server answered: retrying would not change it
        show(false, `Pending scan ${first.qr} refused`, `${errorText(err.code)} ${err.message}`);
      } finally {
        await refreshPending();
      }
    }
  }, [refreshPending, show, userId]);

  useEffect(() => {
    void refreshPending().then(drain);
    const t = setInterval(() => {
      void outbox.all(userId).then((p) => { if (p.length) void drain(); });
    }, 2000);
    addEventListener('online', drain);
    return () => {
      clearInterval(t);
      removeEventListener('online', drain);
    };
  }, [drain, refreshPending, userId]);

  const queue = useCallback(async (scan: outbox.PendingScan, scanId: number) => {
    await outbox.add(scan);
    await refreshPending();
    show(false, `Saved ${scan.qr}: no connection`, 'The scan is kept on this device and sent when the server is back. Keep scanning.', scanId);
    note(scan.qr, false, 'pending: no connection');
  }, [refreshPending, show]);

  const handle = useCallback(async (qr: string, scanId: number) => {
    const current = parentRef.current;
    const kind = current ? 'child' : 'parent';
    const scan: outbox.PendingScan = { userId, kind, qr, parentQr: current?.qr, at: new Date().toISOString() };
    if ((await outbox.all(userId)).length > 0) {
      // earlier scans are still waiting: this one goes after them, in order
      if (kind === 'parent') setParent({ qr: qr.trim().toUpperCase(), childCount: 0, status: 'PENDING' });
      await queue(scan, scanId);
      void drain();
      return;
    }
    try {
      if (!current) {
        const r = await mutate<{ scanParent: Parent }>(scanParentDoc, { qr });
        const p = r.scanParent;
        if (p.status === 'COMPLETED') {
          show(false, `Parent bag ${p.qr} is already full (${p.childCount}/${capacity})`, 'Put it aside and scan another parent bag.', scanId);
        } else {
          setParent(p);
          show(true, `Parent bag ${p.qr}: ${p.childCount}/${capacity}`, 'Now scan its child bags one by one.', scanId);
        }
        note(p.qr, true, 'parent');
        return;
      }
      const r = await mutate<{ scanChildren: ScanChildrenResult }>(scanChildrenDoc, { p: current.qr, c: [qr] });
      const res = r.scanChildren;
      const rej = res.rejected[0];
      if (rej) {
        show(false, `Refused ${rej.qr}`, `${rejectionText(rej.code)} (${rej.message})`, scanId);
        note(rej.qr, false, rejectionText(rej.code));
      } else if (res.alreadyLinked.length) {
        show(true, `${res.alreadyLinked[0].qr} is already in this bag`, 'Counted once; scan the next child bag.', scanId);
        note(res.alreadyLinked[0].qr, true, 'already in this bag');
      } else {
        show(true, `Packed ${res.linked[0]?.qr}: ${res.parent.childCount}/${capacity}`, undefined, scanId);
        note(res.linked[0]?.qr ?? qr, true, 'packed');
      }
      if (res.parent.status === 'COMPLETED') {
        setParent(null);
        show(true, `Bag full: ${res.parent.qr} has ${res.parent.childCount}/${capacity}`, 'Close it and scan the next parent bag.', scanId);
      } else {
        setParent(res.parent);
      }
    } catch (e) {
      const err = e as ApiError;
      if (retryable(err)) {
        if (kind === 'parent') setParent({ qr: qr.trim().toUpperCase(), childCount: 0, status: 'PENDING' });
        await queue(scan, scanId);
        return;
      }
      show(false, `Refused ${qr}`, kind === 'parent' && err.code === 'BAD_USER_INPUT'
        ? `This is not a parent bag label. Scan the label of a parent bag first. (${err.message})`
        : `${errorText(err.code)} ${err.message}`, scanId);
      note(qr, false, err.message);
    }
  }, [drain, queue, show, userId]);

  // A keyboard wedge types faster than the server answers: scans are handled one after
  // another, in the order they were typed.
  const submit = (e: React.FormEvent | React.KeyboardEvent) => {
    e.preventDefault();
    const qr = input.current!.value.trim();
    input.current!.value = '';
    if (!qr) return;
    const scanId = ++seq.current;
    started.current.set(scanId, performance.now());
    chain.current = chain.current.then(() => handle(qr, scanId)).catch(() => {});
  };

  useEffect(() => {
    if (!feedback) return;
    const t0 = started.current.get(feedback.id);
    if (t0 === undefined) return;
    started.current.delete(feedback.id);
    requestAnimationFrame(() => timings.push(performance.now() - t0));
  }, [feedback]);

  async function undo() {
    chain.current = chain.current.then(async () => {
      try {
        const r = await mutate<{ undoLastChildScan: { parent: Parent; removedQr: string } | null }>(undoDoc);
        const u = r.undoLastChildScan;
        if (!u) {
          show(false, 'Nothing to undo', 'Only your own child scans of the last hour can be undone.');
          return;
        }
        setParent(u.parent.status === 'COMPLETED' ? null : u.parent);
        show(true, `Removed ${u.removedQr} from ${u.parent.qr}: ${u.parent.childCount}/${capacity}`, 'Take that child bag out of the parent bag.');
        note(u.removedQr, true, 'removed (undo)');
      } catch (e) {
        const err = e as ApiError;
        show(false, 'Undo failed', `${errorText(err.code)} ${err.message}`);
      }
    });
    input.current?.focus();
  }

  function newParent() {
    setParent(null);
    setFeedback({ id: ++seq.current, ok: true, title: 'Scan a parent bag' });
    input.current?.focus();
  }

  // The scan input keeps the focus: a wedge scanner types wherever the focus is.
  useEffect(() => {
    const refocus = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t !== input.current && !['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName) && e.key.length === 1) input.current?.focus();
    };
    addEventListener('keydown', refocus, true);
    return () => removeEventListener('keydown', refocus, true);
  }, []);

  // Idle reset for shared kiosks: after idleSeconds without input, sign out (never with
  // scans still waiting to be sent: they are sent as the user who made them).
  useEffect(() => {
    let last = Date.now();
    const touch = () => (last = Date.now());
    addEventListener('keydown', touch, true);
    addEventListener('pointerdown', touch, true);
    const t = setInterval(async () => {
      if (Date.now() - last > idleSeconds * 1000 && (await outbox.all(userId)).length === 0) {
        try { await mutate(`mutation { logout }`); } catch { /* signed out locally anyway */ }
        saveSession(null);
      }
    }, 1000);
    return () => {
      clearInterval(t);
      removeEventListener('keydown', touch, true);
      removeEventListener('pointerdown', touch, true);
    };
  }, []);

  const pendingHere = pending.filter((p) => p.kind === 'child' && p.parentQr === parent?.qr).length;
  return (
    <div className="station">
      <section className="count" aria-label="Current bag">
        {parent ? (
          <>
            <div className="bagqr">Parent bag <strong>{parent.qr}</strong></div>
            <div className="n" data-testid="count">{parent.childCount}/{capacity}</div>
            {pendingHere > 0 && <div className="pending-note">+{pendingHere} pending</div>}
          </>
        ) : (
          <div className="n small" data-testid="count">Scan a parent bag</div>
        )}
      </section>
      <form onSubmit={submit} className="scanform">
        <label htmlFor="scan">{parent ? 'Scan a child bag' : 'Scan a parent bag'}</label>
        <input id="scan" ref={input} autoFocus autoComplete="off" autoCapitalize="characters" spellCheck={false}
          inputMode="text" enterKeyHint="send" onKeyDown={(e) => {
            // some wedge scanners end a code with Tab instead of Enter
            if (e.key === 'Tab' && e.currentTarget.value.trim()) submit(e);
          }} onBlur={() => setTimeout(() => {
            const a = document.activeElement;
            if (!a || a === document.body) input.current?.focus();
          }, 0)} />
      </form>
      <div key={feedback?.id} data-testid="feedback" role="status" aria-live="assertive"
        className={`feedback ${feedback ? (feedback.ok ? 'ok flash' : 'bad flash') : ''}`}>
        {feedback ? (<><strong>{feedback.title}</strong>{feedback.detail && <p>{feedback.detail}</p>}</>) : 'Ready.'}
      </div>
      <div className="actions">
        <button type="button" onClick={undo} disabled={pending.length > 0} title={pending.length ? 'Wait until the pending scans are sent' : undefined}>Undo last</button>
        <button type="button" onClick={newParent}>New parent bag</button>
      </div>
      {pending.length > 0 && (
        <section className="pending" aria-label="Pending scans">
          <h2>Pending: {pending.length} scan(s) waiting for the server</h2>
          <ol data-testid="pending">{pending.map((p) => <li key={p.seq}>{p.kind === 'parent' ? 'parent ' : ''}{p.qr}</li>)}</ol>
        </section>
      )}
      <section className="recent" aria-label="Recent scans">
        <h2>Recent scans</h2>
        <ul>{recent.map((r, i) => <li key={i} className={r.ok ? 'ok' : 'bad'}><code>{r.qr}</code> {r.text}</li>)}</ul>
      </section>
    </div>
  );
}
