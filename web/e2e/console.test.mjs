// The console in headless Chromium against a real server (started by web/e2e_test.go, which
// passes BASE_URL, the users and the ports). Run: go test ./web -run TestConsoleEndToEnd -v
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const users = JSON.parse(process.env.E2E_USERS);
const password = process.env.E2E_PASSWORD;
const out = process.env.E2E_OUT ?? 'e2e/out';
const shots = join(out, 'screenshots');
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const tag = Date.now().toString().slice(-5);
const figures = {};
const phone = { width: 390, height: 844 };
const desktop = { width: 1366, height: 768 };
// the narrowest phones in use (320 CSS pixels): the page must not scroll sideways there
const narrow = { width: 320, height: 640 };

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
});
after(async () => {
  await browser?.close();
  writeFileSync(join(out, 'figures.json'), JSON.stringify(figures, null, 2));
});

/** GraphQL over HTTP as another client would call it. */
async function api(query, variables = {}, token) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) {
    const e = new Error(body.errors[0].message);
    e.code = body.errors[0].extensions?.code;
    throw e;
  }
  return body.data;
}

const sessions = {};
async function session(who) {
  sessions[who] ??= (await api(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
    token expiresAt user { id username role area { code name } } } }`, { u: users[who] ?? who, p: password })).login;
  return sessions[who];
}

/** A browser tab; signed in as `who` (no one when null); console errors collected. */
async function tab(who, viewport = desktop) {
  // bypassCSP: axe-core is injected as an inline script; the console itself runs under its CSP
  const context = await browser.newContext({ viewport, acceptDownloads: true, bypassCSP: true });
  if (who) {
    const s = await session(who);
    await context.addInitScript((v) => localStorage.setItem('tracetrack.session', v), JSON.stringify(s));
  }
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

async function hasMutation(name) {
  const d = await api(`{ __type(name: "Mutation") { fields { name type { name kind ofType { name } } } } }`);
  return d.__type.fields.find((f) => f.name === name);
}

async function type(page, text, end = 'Enter') {
  // a keyboard wedge: characters a few ms apart, then Enter (or Tab, as some are set up)
  await page.keyboard.type(text, { delay: 3 });
  await page.keyboard.press(end);
}

const feedback = (page) => page.getByTestId('feedback');

function p95(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)];
}

const parentQr = `SB${tag}`;
const offlineParentQr = `SB${String((Number(tag) + 1) % 100000).padStart(5, '0')}`;
const childQr = (i) => `CH${tag}${String(i).padStart(3, '0')}`;

test('station shift: 30 children, a wrong QR, an undo, a full bag, then 5 scans offline', async (t) => {
  const undo = await hasMutation('undoLastChildScan');
  if (undo.type.name !== 'UndoResult') return t.skip('undoLastChildScan does not return UndoResult on this server yet (issue 11)');
  const { page, context } = await tab(null, phone);
  await context.addInitScript(() => {
    // what the worker hears and feels: each tone's frequency and each vibration pattern
    window.__signals = [];
    navigator.vibrate = (pattern) => window.__signals.push(`vibrate ${pattern}`) > 0;
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
      const osc = create.call(this);
      const start = osc.start.bind(osc);
      osc.start = (...a) => (window.__signals.push(`tone ${osc.frequency.value}`), start(...a));
      return osc;
    };
  });
  const js = [];
  page.on('response', async (r) => {
    if (r.url().endsWith('.js')) js.push(r.body().then((b) => ({ url: r.url(), raw: b.length, gz: gzipSync(b, { level: 9 }).length })));
  });
  await page.goto(`${base}/`);
  await page.getByLabel('Username').fill(users.dispatcher);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#scan').waitFor();
  const loaded = await Promise.all(js);
  figures.stationJsGzipBytes = loaded.reduce((n, f) => n + f.gz, 0);
  figures.stationJsFiles = loaded.map((f) => `${f.url.split('/').pop()} ${f.raw} B, ${f.gz} B gzipped`);
  assert.ok(figures.stationJsGzipBytes < 250 * 1024, `station JS ${figures.stationJsGzipBytes} B gzipped is over the 250 KB budget`);
  await page.screenshot({ path: join(shots, 'station-phone-empty.png') });

  await type(page, parentQr);
  await assertFeedback(page, `Parent bag ${parentQr}: 0/30`, 'ok');
  for (let i = 1; i <= 10; i++) {
    await type(page, childQr(i));
    await assertFeedback(page, `Packed ${childQr(i)}: ${i}/30`, 'ok');
  }
  // a wrong QR: the label of a parent bag where a child belongs
  await type(page, offlineParentQr);
  await assertFeedback(page, 'parent bag label, not a child bag', 'bad');
  const signals = await page.evaluate(() => window.__signals);
  assert.deepEqual(signals.slice(-4), ['tone 1320', 'vibrate 40', 'tone 220', 'vibrate 120,60,120'],
    'a packed child and a refusal sound and feel different');
  await page.getByRole('button', { name: 'Undo last' }).click();
  await assertFeedback(page, `Removed ${childQr(10)} from ${parentQr}: 9/30`, 'ok');
  await assert.doesNotReject(page.getByTestId('count').filter({ hasText: '9/30' }).waitFor());
  // a scanner sends the printed text "LABEL NO.<n>" for some labels: the number is the QR
  for (let i = 10; i <= 30; i++) {
    await type(page, i === 15 ? `LABEL NO.${childQr(i)}` : childQr(i), i === 20 ? 'Tab' : 'Enter');
    if (i < 30) await assertFeedback(page, `Packed ${childQr(i)}: ${i}/30`, 'ok');
  }
  await assertFeedback(page, `Bag full: ${parentQr} has 30/30`, 'ok');
  await page.getByTestId('count').filter({ hasText: 'Scan a parent bag' }).waitFor();
  await page.screenshot({ path: join(shots, 'station-phone-full.png') });

  const timings = await page.evaluate(() => window.__scanTimings);
  // [0] parent, [1..10] children 1-10, [11] the wrong QR, [12..32] children 10-30 after the undo
  const children = [...timings.slice(1, 10), ...timings.slice(12, 33)];
  assert.equal(children.length, 30);
  figures.scanToFeedbackMs = { p50: round(p95Like(children, 0.5)), p95: round(p95(children)), max: round(Math.max(...children)), n: children.length };

  const token = (await session('dispatcher')).token;
  const full = (await api(`query($q: String!) { bag(qr: $q) { status childCount children(first: 30) { edges { node { qr } } } } }`, { q: parentQr }, token)).bag;
  assert.equal(full.status, 'COMPLETED');
  assert.deepEqual(full.children.edges.map((e) => e.node.qr).sort(), Array.from({ length: 30 }, (_, i) => childQr(i + 1)).sort());

  // Offline: the first request reaches the server but its answer is lost (a timeout as the
  // station sees it), the others never leave the device. All five wait, then replay.
  await type(page, offlineParentQr);
  await assertFeedback(page, `Parent bag ${offlineParentQr}: 0/30`, 'ok');
  // The next request (the first replay) is answered SERVICE_UNAVAILABLE, as when the
  // database is down: the scans stay pending too.
  let requests = 0;
  await page.route('**/graphql', async (route) => {
    requests++;
    if (requests === 1) {
      await route.fetch();
      return route.abort('connectionreset');
    }
    if (requests === 2) {
      return route.fulfill({ status: 503, contentType: 'application/json',
        body: JSON.stringify({ errors: [{ message: 'the database is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }) });
    }
    return route.abort('internetdisconnected');
  });
  const offline = [1, 2, 3, 4, 5].map((i) => childQr(100 + i));
  for (const qr of offline) {
    await type(page, qr);
    await assertFeedback(page, `Saved ${qr}: no connection`, 'bad');
  }
  await page.getByTestId('pending').filter({ hasText: offline[4] }).waitFor();
  assert.equal(await page.getByTestId('pending').locator('li').count(), 5);
  await page.screenshot({ path: join(shots, 'station-phone-offline.png') });
  const during = (await api(`query($q: String!) { bag(qr: $q) { childCount } }`, { q: offlineParentQr }, token)).bag;
  assert.equal(during.childCount, 1, 'the first offline scan reached the server before its answer was lost');

  assert.ok(requests >= 2, 'replays were tried while the server was away');
  await page.unroute('**/graphql');
  await page.getByTestId('pending').waitFor({ state: 'detached', timeout: 15000 });
  await page.getByTestId('count').filter({ hasText: '5/30' }).waitFor();
  const replayed = (await api(`query($q: String!) { bag(qr: $q) { childCount children(first: 30) { edges { node { qr
      scans(first: 20) { edges { node { kind } } } } } } } }`, { q: offlineParentQr }, token)).bag;
  assert.equal(replayed.childCount, 5);
  assert.deepEqual(replayed.children.edges.map((e) => e.node.qr), offline, 'linked in the order they were scanned');
  for (const e of replayed.children.edges) {
    assert.equal(e.node.scans.edges.filter((s) => s.node.kind === 'CHILD_LINKED').length, 1, `${e.node.qr} linked once`);
  }
  await page.screenshot({ path: join(shots, 'station-phone-replayed.png') });
  await context.close();
});

async function assertFeedback(page, text, kind) {
  const f = feedback(page).filter({ hasText: text });
  await f.waitFor({ timeout: 5000 });
  assert.match(await f.getAttribute('class'), new RegExp(`\\b${kind}\\b`), `"${text}" shown as ${kind}`);
}

function p95Like(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * q) - 1)];
}
const round = (x) => Math.round(x * 10) / 10;

test('dashboard: another client\'s scan within 1 s, resuming after the socket drops, own area only', async () => {
  const { page, context } = await tab('dispatcher');
  const sockets = [];
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    const server = ws.connectToServer();
    sockets.push({ ws, server });
  });
  await page.goto(`${base}/#/dashboard`);
  await page.getByTestId('live').filter({ hasText: 'live' }).waitFor();
  const colleague = (await session('colleague')).token;
  const scanParent = (qr, token = colleague) => api(`mutation($q: String!) { scanParent(qr: $q) { qr } }`, { q: qr }, token);
  const row = (qr) => page.getByTestId('feed').locator('tr', { hasText: qr });

  const warm = `M444-${tag}`;
  await scanParent(warm);
  await row(warm).waitFor({ timeout: 5000 }); // the subscription is in place
  const seen = `SB${String((Number(tag) + 2) % 100000).padStart(5, '0')}`;
  const started = Date.now();
  await scanParent(seen);
  await row(seen).waitFor({ timeout: 1000 });
  figures.dashboardScanVisibleMs = Date.now() - started;

  // the socket drops; scans made while it is down arrive after the reconnect, once each
  const foreign = `SB${String((Number(tag) + 3) % 100000).padStart(5, '0')}`;
  const missed = `SB${String((Number(tag) + 4) % 100000).padStart(5, '0')}`;
  for (const s of sockets) {
    s.ws.close({ code: 4000, reason: 'test: network drop' });
    s.server.close();
  }
  await page.getByTestId('live').filter({ hasText: 'reconnecting' }).waitFor();
  await scanParent(foreign, (await session('other')).token); // jaipur: not for a lucknow dispatcher
  await scanParent(missed);
  await row(missed).waitFor({ timeout: 10000 });
  await page.getByTestId('live').filter({ hasText: 'live' }).waitFor();
  assert.ok(sockets.length >= 2, 'the dashboard opened a new socket');
  for (const qr of [warm, seen, missed]) assert.equal(await row(qr).count(), 1, `${qr} shown once`);
  assert.equal(await row(foreign).count(), 0, 'another area\'s scan is not shown');
  await page.screenshot({ path: join(shots, 'dashboard-desktop.png') });
  await context.close();
});

test('dashboard: a user deactivated by an admin is signed out at once', async () => {
  const { page, context } = await tab('leaver');
  await page.goto(`${base}/#/dashboard`);
  await page.getByTestId('live').filter({ hasText: 'live' }).waitFor();
  const id = (await session('leaver')).user.id;
  await api(`mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { active } }`, { id }, (await session('admin')).token);
  await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 5000 });
  await context.close();
});

const billNumber = `BILL-${tag}`;
let billId;
let treeQr; // a parent with children, for the bag page

test('bill desk: create, scan parents on, rejections explained, complete, reopen, CSV and Excel', async (t) => {
  // its own parents, made by another client: one full (30 kg), one with 5 children, one empty
  const biller = (await session('biller')).token;
  const full = `SB${String((Number(tag) + 5) % 100000).padStart(5, '0')}`;
  const five = `SB${String((Number(tag) + 6) % 100000).padStart(5, '0')}`;
  const extra = `M444-${String((Number(tag) + 1) % 100000).padStart(5, '0')}`;
  const child = (p, i) => `BD${p.slice(2)}${String(i).padStart(2, '0')}`;
  for (const [qr, n] of [[full, 30], [five, 5], [extra, 0]]) {
    await api(`mutation($q: String!) { scanParent(qr: $q) { qr } }`, { q: qr }, biller);
    if (n) await api(`mutation($p: String!, $c: [String!]!) { scanChildren(parentQr: $p, childQrs: $c) { rejected { code } } }`,
      { p: qr, c: Array.from({ length: n }, (_, i) => child(qr, i)) }, biller);
  }
  treeQr = five;
  const { page, context } = await tab('biller');
  await page.goto(`${base}/#/bills`);
  await page.getByLabel('Bill number').fill(billNumber);
  await page.getByLabel('Capacity (parent bags)').fill('2');
  await page.getByLabel('Destination').fill('Jaipur mandi');
  await page.getByRole('button', { name: 'Create bill' }).click();
  await page.locator('#billscan').waitFor();
  billId = decodeURIComponent(page.url().split('#/bills/')[1]);
  const fb = page.getByTestId('bill-feedback');

  await type(page, full);
  await fb.filter({ hasText: `Loaded ${full}: 1/2 parent bags, 30 kg` }).waitFor();
  await type(page, child(full, 3));
  await fb.filter({ hasText: 'That is a child bag label' }).waitFor();
  assert.match(await fb.getAttribute('class'), /\bbad\b/);
  await type(page, five);
  await fb.filter({ hasText: `Loaded ${five}: 2/2` }).waitFor();
  await type(page, extra);
  await fb.filter({ hasText: 'This bill already has all its parent bags' }).waitFor();
  await page.getByTestId('bill-weight').filter({ hasText: '35 kg' }).waitFor();
  await page.getByTestId('bill-parents').locator('tbody tr').nth(1).waitFor();
  assert.equal(await page.getByTestId('bill-parents').locator('tbody tr').count(), 2);

  await page.getByRole('button', { name: 'Complete bill' }).click();
  await page.getByTestId('bill-status').filter({ hasText: 'completed' }).waitFor();
  await page.screenshot({ path: join(shots, 'bill-desktop.png') });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv, new RegExp(`^${billNumber},COMPLETED,2,2,35,`, 'm'));
  const [workbook] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Excel' }).click()]);
  assert.equal(workbook.suggestedFilename(), `bill-${billNumber}.xlsx`);
  // an .xlsx is a zip: it starts with the local file header PK\x03\x04
  assert.deepEqual([...readFileSync(await workbook.path()).subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04]);
  await page.getByRole('button', { name: 'Reopen bill' }).click();
  await page.getByTestId('bill-status').filter({ hasText: 'in progress' }).waitFor();
  await context.close();
});

test('admin: create a user, who gets locked out, then unlock them', async (t) => {
  if (!(await hasMutation('unlockUser'))) return t.skip('unlockUser is not on this server yet (issue 11)');
  const { page, context } = await tab('admin');
  const clerk = `clerk_${tag}`;
  const clerkPassword = 'Clerk#Pass1';
  await page.goto(`${base}/#/admin`);
  const form = page.getByRole('form', { name: 'New user' });
  await form.getByLabel('Username').fill(clerk);
  await form.getByLabel('Password').fill(clerkPassword);
  await form.getByLabel('Role').selectOption('BILLER');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByTestId('admin-message').filter({ hasText: `Created ${clerk}` }).waitFor();
  await page.locator(`tr[data-user="${clerk}"]`).waitFor();

  for (let i = 0; i < 5; i++) {
    await assert.rejects(api(`mutation($u: String!) { login(username: $u, password: "Wrong#Pass9") { token } }`, { u: clerk }));
  }
  const signIn = await tab(null, phone);
  await signIn.page.goto(`${base}/`);
  await signIn.page.getByLabel('Username').fill(clerk);
  await signIn.page.getByLabel('Password').fill(clerkPassword);
  await signIn.page.getByRole('button', { name: 'Sign in' }).click();
  await signIn.page.getByRole('alert').filter({ hasText: 'locked' }).waitFor();
  await signIn.page.screenshot({ path: join(shots, 'login-locked-phone.png') });

  await page.locator(`tr[data-user="${clerk}"]`).getByRole('button', { name: 'Unlock' }).click();
  await page.getByTestId('admin-message').filter({ hasText: `${clerk} unlocked` }).waitFor();
  await signIn.page.getByRole('button', { name: 'Sign in' }).click();
  await signIn.page.getByRole('link', { name: 'Bill desk' }).waitFor();
  await page.getByRole('button', { name: 'Run the integrity check' }).click();
  await page.getByTestId('integrity').filter({ hasText: 'All counters and invariants agree' }).waitFor();
  await page.screenshot({ path: join(shots, 'admin-desktop.png') });
  await signIn.context.close();
  await context.close();
});

test('GraphiQL: queries with the signed-in user\'s token, subscriptions over graphql-transport-ws', async () => {
  const { page, context } = await tab('admin');
  // the subprotocol the server agreed on, from the handshake as Chromium saw it
  const protocols = [];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    protocols.push(h['sec-websocket-protocol']);
  });
  await page.goto(`${base}/graphiql`);
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  const run = async (text) => {
    await page.evaluate((t) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(t), text);
    await page.waitForTimeout(400); // GraphiQL parses the edited text (it picks the transport from it) after a debounce
    await page.locator('.graphiql-execute-button').click();
  };
  const response = page.locator('.graphiql-response');
  await run('{ me { username role } }');
  await response.filter({ hasText: users.admin }).waitFor();
  await run('subscription Live { scanAdded { bagQr kind } }');
  const qr = `M444-${String((Number(tag) + 9) % 100000).padStart(5, '0')}`;
  await page.waitForTimeout(500); // the subscription reaches the server
  await api(`mutation($q: String!) { scanParent(qr: $q) { qr } }`, { q: qr }, (await session('admin')).token);
  await response.filter({ hasText: qr }).waitFor({ timeout: 5000 });
  assert.deepEqual(protocols, ['graphql-transport-ws']);
  await page.screenshot({ path: join(shots, 'graphiql-subscription-desktop.png') });
  await context.close();
});

test('station: an idle kiosk signs out', async () => {
  const { page, context } = await tab('colleague', phone); // its token ends here
  await context.addInitScript(() => localStorage.setItem('tracetrack.idleSeconds', '1'));
  await page.goto(`${base}/#/station`);
  await page.locator('#scan').waitFor();
  await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 5000 });
  await context.close();
});

const pages = [
  { name: 'login', who: null, path: '/', ready: (p) => p.getByRole('button', { name: 'Sign in' }) },
  { name: 'station', who: 'dispatcher', path: '/#/station', ready: (p) => p.locator('#scan') },
  { name: 'dashboard', who: 'admin', path: '/#/dashboard', ready: (p) => p.getByTestId('live').filter({ hasText: 'live' }) },
  { name: 'bills', who: 'biller', path: '/#/bills', ready: (p) => (billId ? p.getByRole('link', { name: billNumber }) : p.getByRole('heading', { name: 'Bill desk' })) },
  { name: 'bill', who: 'biller', path: () => `/#/bills/${encodeURIComponent(billId)}`, ready: (p) => p.getByTestId('bill-parents').locator('tbody tr').first() },
  { name: 'bags', who: 'admin', path: () => `/#/bags/${treeQr}`, ready: (p) => p.getByTestId('bag') },
  { name: 'admin', who: 'admin', path: '/#/admin', ready: (p) => p.getByTestId('users').locator('tbody tr').first() },
  { name: 'graphiql', who: 'admin', path: '/graphiql', ready: (p) => p.locator('.graphiql-container') },
];

/** How far the page is wider than the window (0 when it does not scroll sideways). */
const sidewaysOverflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

for (const viewport of [phone, desktop, narrow]) {
  const size = { [phone.width]: 'phone', [desktop.width]: 'desktop', [narrow.width]: 'narrow' }[viewport.width];
  test(`every page at ${viewport.width}x${viewport.height}: no console errors, no serious accessibility violations, no sideways scrolling`, async (t) => {
    for (const p of pages) {
      if ((p.name === 'bill' && !billId) || (p.name === 'bags' && !treeQr)) {
        t.diagnostic(`${p.name} page skipped: the bill desk test made no bill`);
        continue;
      }
      const { page, context, errors } = await tab(p.who, viewport);
      await page.goto(base + (typeof p.path === 'function' ? p.path() : p.path));
      await p.ready(page).waitFor({ timeout: 10000 });
      await page.waitForTimeout(300); // late renders (charts, live counters)
      if (p.name === 'station') {
        // what a scanner sends when it reads a QR that is no label (a URL): one long word
        await type(page, `HTTPS${'X'.repeat(150)}`);
        await assertFeedback(page, 'Refused', 'bad');
      }
      await page.screenshot({ path: join(shots, `${p.name}-${size}.png`) });
      if (p.name !== 'graphiql') { // GraphiQL's own layout has a minimum width
        assert.equal(await sidewaysOverflow(page), 0, `${p.name} at ${size}: the page is wider than the window`);
      }
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
      const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} ${n.html.slice(0, 120)}`).join(', ')})`), [], `${p.name} at ${size}`);
      assert.deepEqual(errors, [], `${p.name} at ${size}: console errors`);
      await context.close();
    }
  });
}

test('CORS: an allowed origin calls the API from another port, a foreign one is refused', async () => {
  const serve = (port) => new Promise((resolve) => {
    const s = createServer((_, res) => res.end('<!doctype html><title>other origin</title><p>another app</p>'));
    s.listen(Number(port), '127.0.0.1', () => resolve(s));
  });
  const servers = await Promise.all([serve(process.env.CORS_ALLOWED_PORT), serve(process.env.CORS_FOREIGN_PORT)]);
  const token = (await session('biller')).token;
  const call = (page) => page.evaluate(async ({ url, token }) => {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { username } }' }),
      });
      return { ok: true, username: (await res.json()).data.me.username };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, { url: `${base}/graphql`, token });
  try {
    const { page, context } = await tab(null);
    await page.goto(`http://127.0.0.1:${process.env.CORS_ALLOWED_PORT}/`);
    assert.deepEqual(await call(page), { ok: true, username: users.biller });
    await page.goto(`http://127.0.0.1:${process.env.CORS_FOREIGN_PORT}/`);
    const refused = await call(page);
    assert.equal(refused.ok, false, 'a foreign origin cannot read the answer');
    await context.close();
  } finally {
    servers.forEach((s) => s.close());
  }
});
