// Scans made while the server is unreachable wait here (IndexedDB, so a reload or a crash of
// the tab keeps them) and are replayed in the order they were made. Replaying is safe because
// the API's scans are idempotent: a child already linked to this parent comes back as
// alreadyLinked, a parent already registered is simply returned.
export interface PendingScan {
  seq?: number;
  /** The user who made the scan: only they replay it (a shared kiosk changes hands). */
  userId: string;
  kind: 'parent' | 'child';
  qr: string;
  /** For a child: the parent it was scanned into. */
  parentQr?: string;
  at: string;
}

const dbName = 'tracetrack-station';
const store = 'outbox';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(dbName, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(store, { keyPath: 'seq', autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let db: Promise<IDBDatabase> | null = null;

async function tx<T>(mode: IDBTransactionMode, work: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  db ??= open();
  const d = await db;
  return new Promise((resolve, reject) => {
    const t = d.transaction(store, mode);
    const req = work(t.objectStore(store));
    t.oncomplete = () => resolve(req.result);
    t.onerror = () => reject(t.error);
  });
}

export function add(scan: PendingScan): Promise<IDBValidKey> {
  return tx('readwrite', (s) => s.add(scan));
}

/** The user's pending scans, oldest first. */
export async function all(userId: string): Promise<PendingScan[]> {
  const every = await tx('readonly', (s) => s.getAll() as IDBRequest<PendingScan[]>);
  return every.filter((p) => p.userId === userId);
}

export function remove(seqs: number[]): Promise<undefined> {
  return tx('readwrite', (s) => {
    let last: IDBRequest<undefined> = s.delete(seqs[0]);
    for (const seq of seqs.slice(1)) last = s.delete(seq);
    return last;
  });
}
