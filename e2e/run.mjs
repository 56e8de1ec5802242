// Tier0 browser journeys: a real server (release binary), Debian's
// headless Chromium driven by playwright-core, axe-core on every page
// visited, a CSS+JS budget per page, screenshots at phone and desktop width.
//
//   node e2e/run.mjs            (builds the release binary if needed)
//   TIER0_BIN=path/to/tier0 node e2e/run.mjs
//
// Never downloads a browser: CHROMIUM (default /usr/bin/chromium) must be
// installed (`apt-get install chromium`). Without it the run is SKIPPED,
// or fails when TIER0_TEST_REQUIRE_ALL=1 (CI).

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const ARTIFACTS = path.join(HERE, 'artifacts');
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const REQUIRE_ALL = ['1', 'true'].includes((process.env.TIER0_TEST_REQUIRE_ALL || '').toLowerCase());
const BUDGET_BYTES = 100 * 1024; // CSS + JS per page
const RUN_TIMEOUT_MS = 5 * 60 * 1000;
const JOURNEY_TIMEOUT_MS = 90 * 1000;
const PASSWORD = 'correct horse battery staple 42';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

function log(...a) { console.log(...a); }
function skip(why) {
  if (REQUIRE_ALL) { console.error(`SKIPPED is not allowed (TIER0_TEST_REQUIRE_ALL=1): ${why}`); process.exit(1); }
  log(`SKIPPED: ${why}`);
  process.exit(0);
}
function assert(cond, msg) { if (!cond) throw new Error(`assertion failed: ${msg}`); }

// ---- the binary and the server ---------------------------------------------

function binary() {
  if (process.env.TIER0_BIN) return path.resolve(process.env.TIER0_BIN);
  const target = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
  log('==> cargo build --release -p tier0');
  const r = spawnSync('cargo', ['build', '--release', '-p', 'tier0'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('release build failed');
  return path.join(target, 'release', 'tier0');
}

async function startServer(bin, extra = []) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tier0-e2e-'));
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...extra], {
    env: { ...process.env, TIER0_LOG: process.env.TIER0_LOG || 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdoutText = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => { stdoutText += d; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${stderr}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/running at https?:\/\/[^:\s]+:(\d+)/);
      // With --demo, wait for the sign-in table too.
      if (m && (!extra.includes('--demo') || /Sign in as:[\s\S]*admin@/.test(out))) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${out}\n${stderr}`)));
  });
  return { child, dataDir, base: `http://127.0.0.1:${port}`, stderr: () => stderr, stdout: () => stdoutText };
}

// ---- API helpers -------------------------------------------------------------

function api(base, token) {
  const call = async (method, p, body, expect) => {
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers['content-type'] = 'application/json'; payload = JSON.stringify(body); }
    const r = await fetch(base + p, { method, headers, body: payload, redirect: 'manual' });
    const text = await r.text();
    if (expect && r.status !== expect) throw new Error(`${method} ${p}: expected ${expect}, got ${r.status}: ${text}`);
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text };
  };
  return {
    get: (p, e = 200) => call('GET', p, undefined, e),
    post: (p, b, e) => call('POST', p, b, e),
    put: (p, b, e = 200) => call('PUT', p, b, e),
    patch: (p, b, e = 200) => call('PATCH', p, b, e),
    del: (p, e = 204) => call('DELETE', p, undefined, e),
  };
}

async function invite(base, admin, role, email) {
  const inv = await admin.post('/api/auth/invite', { email, role }, 201);
  const token = new URL(inv.json.invite_url).searchParams.get('token');
  const s = await api(base).post('/api/auth/signup-exchange', { token, password: PASSWORD, name: `${role[0].toUpperCase()}${role.slice(1)} Person` }, 201);
  return { email, password: PASSWORD, token: s.json.token, api: api(base, s.json.token) };
}

// RFC 6238 (SHA-1, 6 digits, 30 s).
function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}
function totp(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = crypto.createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

// A real PNG (solid colour square), made here so the run needs no files.
function crc32(buf) {
  let c, crc = 0xffffffff;
  for (const b of buf) {
    c = (crc ^ b) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function png(size, [r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(size).fill([r, g, b]).flat())]);
  const raw = Buffer.concat(Array(size).fill(row));
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'binary'), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// ---- page checks ---------------------------------------------------------------

const AXE_SOURCE = fs.readFileSync(path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const checked = [];

/** Track CSS/JS bytes and CSP violations of every page. */
function watch(page) {
  page._assets = new Map();
  page._csp = [];
  page.on('response', async (res) => {
    const type = res.request().resourceType();
    if (type !== 'stylesheet' && type !== 'script') return;
    let n = 0;
    try { n = (await res.body()).length; } catch { n = Number(res.headers()['content-length'] || 0); }
    page._assets.set(res.url(), n);
  });
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) page._csp.push(m.text()); });
  return page;
}

/** Navigate and check: status, axe (when JS runs), CSS+JS budget, CSP. */
async function visit(page, url, { status = 200, name, axe = true } = {}) {
  page._assets.clear();
  const res = await page.goto(url, { waitUntil: 'load' });
  assert(res, `no response for ${url}`);
  assert(res.status() === status, `${url}: expected ${status}, got ${res.status()}`);
  await check(page, name || url, { axe });
  return res;
}

async function check(page, name, { axe = true } = {}) {
  await page.waitForLoadState('load');
  await page.waitForTimeout(50); // let response bodies settle
  const bytes = [...page._assets.values()].reduce((a, b) => a + b, 0);
  assert(bytes <= BUDGET_BYTES, `${name}: ${bytes} bytes of CSS+JS (budget ${BUDGET_BYTES})`);
  assert(page._csp.length === 0, `${name}: CSP violations: ${page._csp.join(' | ')}`);
  let violations = [];
  if (axe) {
    await page.evaluate(AXE_SOURCE);
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
    });
    violations = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of result.filter((x) => !violations.includes(x))) log(`    axe (${v.impact}) ${name}: ${v.id} — ${v.help} ${JSON.stringify(v.nodes)}`);
  }
  assert(violations.length === 0, `${name}: axe found ${violations.map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`).join('; ')}`);
  checked.push({ page: name, css_js_bytes: bytes, axe: axe ? 'passed' : 'not run (JavaScript off)' });
}

async function screenshots(page, name) {
  const original = page.viewportSize();
  for (const [label, size] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${label}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

async function signIn(page, user, next = '/portal/status') {
  await visit(page, `${page._base}/login?next=${encodeURIComponent(next)}`, { name: 'sign-in' });
  await page.getByLabel('E-mail address').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
}

// ---- journeys -------------------------------------------------------------------

async function journeys(browser, base) {
  const anon = api(base);
  const reg = await anon.post('/api/auth/register', { email: 'admin@example.com', password: PASSWORD, name: 'Ada Admin' }, 201);
  const admin = { email: 'admin@example.com', password: PASSWORD, api: api(base, reg.json.token) };
  const operator = await invite(base, admin.api, 'operator', 'operator@example.com');
  const requester = await invite(base, admin.api, 'requester', 'rita@example.com');
  const colleague = await invite(base, admin.api, 'requester', 'colin@example.com');
  const secure = await invite(base, admin.api, 'requester', 'tess@example.com');
  const setup = await secure.api.post('/api/me/totp/setup', undefined, 200);
  await secure.api.post('/api/me/totp/enable', { code: totp(setup.json.secret) }, 200);
  secure.secret = setup.json.secret;

  const newPage = async (options = {}) => {
    const ctx = await browser.newContext({ viewport: DESKTOP, ...options });
    const page = watch(await ctx.newPage());
    page._base = base;
    return page;
  };
  const results = [];
  const journey = async (name, fn) => {
    const t = Date.now();
    try {
      let timer;
      const limit = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`journey exceeded ${JOURNEY_TIMEOUT_MS / 1000} s`)), JOURNEY_TIMEOUT_MS); });
      await Promise.race([fn(), limit]).finally(() => clearTimeout(timer));
      results.push({ name, ok: true });
      log(`  ok    ${name} (${Date.now() - t} ms)`);
    } catch (e) {
      results.push({ name, ok: false, error: e });
      log(`  FAIL  ${name}: ${e.stack || e}`);
    }
  };

  await journey('sign-in page and password sign-in', async () => {
    const page = await newPage();
    await visit(page, `${base}/login`, { name: 'sign-in' });
    await screenshots(page, 'sign-in');
    // A wrong password is announced next to the form.
    await page.getByLabel('E-mail address').fill(requester.email);
    await page.getByLabel('Password').fill('not the password');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert(await page.getByRole('alert').first().isVisible(), 'error is shown');
    await check(page, 'sign-in (error)');
    await signIn(page, requester);
    assert(new URL(page.url()).pathname === '/portal/status', `landed on ${page.url()}`);
    await page.context().close();
  });

  await journey('two-step sign-in (TOTP)', async () => {
    const page = await newPage();
    await visit(page, `${base}/login?next=%2Fportal%2Fstatus`, { name: 'sign-in' });
    await page.getByLabel('E-mail address').fill(secure.email);
    await page.getByLabel('Password').fill(secure.password);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert(await page.getByRole('heading', { name: 'Enter your sign-in code' }).isVisible(), 'asks for the code');
    await check(page, 'two-step code');
    await screenshots(page, 'two-step-code');
    await page.getByLabel('Code').fill('000000');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Verify' }).click()]);
    assert(await page.getByRole('alert').first().isVisible(), 'a wrong code is announced');
    await check(page, 'two-step code (error)');
    await page.getByLabel('Code').fill(totp(secure.secret, Date.now() + 30_000));
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Verify' }).click()]);
    assert(new URL(page.url()).pathname === '/portal/status', `landed on ${page.url()}`);
    await page.context().close();
  });

  // Status data through the API, as an operator would script it.
  const op = operator.api;
  const email = (await op.post('/api/itsm/status/services', { name: 'E-mail', description: 'Outlook and webmail', state: 'degraded' }, 201)).json;
  const vpn = (await op.post('/api/itsm/status/services', { name: 'VPN', description: 'Working from home', state: 'operational' }, 201)).json;
  await op.post('/api/itsm/status/services', { name: 'Printing', state: 'maintenance' }, 201);
  const iso = (ms) => new Date(Date.now() + ms).toISOString();
  await op.post('/api/itsm/status/maintenance', { title: 'Printer firmware update', note: 'Printing may stop for a few minutes.', starts_at: iso(-600_000), ends_at: iso(3_600_000), service_ids: [] }, 201);
  await op.post('/api/itsm/status/maintenance', { title: 'VPN certificate renewal', starts_at: iso(86_400_000), ends_at: iso(90_000_000), service_ids: [vpn.id] }, 201);
  await op.post('/api/itsm/status/notes', { service_id: email.id, body: 'Sending mail is slow. We are working with the provider; no mail is lost.' }, 201);
  const banner = (await op.post('/api/itsm/announcements', { body: 'E-mail is slow this morning. No mail is lost.', severity: 'warning', link: '/portal/status' }, 201)).json;

  await journey('status tab: degraded service and announcement banner, dismissed per user', async () => {
    const page = await newPage();
    await signIn(page, requester);
    await visit(page, `${base}/portal/status`, { name: 'portal status' });
    const row = page.locator('.status-list li', { hasText: 'E-mail' });
    assert((await row.locator('.pill').innerText()).trim() === 'Slow or unreliable', 'E-mail shows as degraded');
    assert(await page.getByText('Some services have problems').isVisible(), 'summary says so');
    assert(await page.getByText('Printer firmware update').isVisible(), 'ongoing maintenance shown');
    const region = page.getByRole('region', { name: 'Site announcements' });
    assert(await region.getByText('E-mail is slow this morning').isVisible(), 'banner shown');
    await screenshots(page, 'portal-status');
    await Promise.all([page.waitForNavigation(), region.getByRole('button', { name: /Dismiss/ }).click()]);
    assert(new URL(page.url()).pathname === '/portal/status', 'back on the same page');
    assert(await page.getByRole('region', { name: 'Site announcements' }).count() === 0, 'banner gone');
    await page.reload();
    assert(await page.getByText('E-mail is slow this morning').count() === 0, 'stays dismissed');
    await check(page, 'portal status (dismissed)');
    const other = await colleague.api.get('/api/announcements/active');
    assert(other.json.some((a) => a.id === banner.id), 'a colleague still sees it');
    // Keyboard: the skip link is the first stop and moves focus to main.
    await page.keyboard.press('Tab');
    assert(await page.evaluate(() => document.activeElement.textContent.trim()) === 'Skip to main content', 'skip link first');
    await page.keyboard.press('Enter');
    assert(await page.evaluate(() => document.activeElement.id) === 'main', 'focus moved to main');
    await page.context().close();
  });

  await journey('agent workspace: managing the status page with forms', async () => {
    const page = await newPage();
    await signIn(page, operator, '/itsm/status');
    await visit(page, `${base}/itsm/status`, { name: 'itsm status' });
    assert(await page.getByRole('link', { name: 'ITSM Dashboard' }).isVisible(), 'agents get the dashboard shortcut');
    assert(await page.getByRole('link', { name: 'Report an incident' }).isVisible(), 'and report an incident');
    await screenshots(page, 'itsm-status');
    await page.getByRole('link', { name: 'Add a service' }).click();
    await check(page, 'add a service');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add service' }).click()]);
    assert(await page.getByRole('alert').first().isVisible(), 'missing name is announced');
    await check(page, 'add a service (errors)');
    await page.getByLabel('Name').fill('Wi-Fi');
    await page.getByLabel('State').selectOption('partial_outage');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add service' }).click()]);
    assert(await page.getByText('The service was saved.').isVisible(), 'saved');
    await page.getByRole('link', { name: 'Post an update' }).click();
    await check(page, 'post an update');
    await page.getByLabel('Service').selectOption({ label: 'Wi-Fi' });
    await page.getByLabel('Update').fill('Wi-Fi on floor 2 is down. Use a network cable meanwhile.');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Post update' }).click()]);
    await page.getByRole('link', { name: 'Schedule maintenance' }).click();
    await check(page, 'schedule maintenance');
    await page.getByRole('link', { name: 'Back to the status page' }).click();
    await page.getByRole('link', { name: 'New announcement' }).click();
    await check(page, 'new announcement');
    await page.context().close();
  });

  await journey('portal settings: name, colour, logo, and a hidden section', async () => {
    const page = await newPage();
    await signIn(page, admin, '/settings/portal');
    await visit(page, `${base}/settings/portal`, { name: 'portal settings' });
    await page.getByLabel('Portal name').fill('Acme Help');
    await page.getByLabel('Primary colour').fill('#0b7a75');
    await page.getByLabel('Short description').fill('Ask for equipment, access and help here.');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save settings' }).click()]);
    assert(await page.getByText('The portal settings were saved.').isVisible(), 'saved');
    await check(page, 'portal settings (saved)');
    assert((await page.locator('.brand-name').innerText()).trim() === 'Acme Help', 'header shows the name');
    const bg = await page.locator('.header-actions .btn, button.btn').first().evaluate((e) => getComputedStyle(e).backgroundColor);
    assert(bg === 'rgb(11, 122, 117)', `brand colour applied (got ${bg})`);
    // A bad colour is refused next to the field.
    await page.getByLabel('Primary colour').fill('teal');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save settings' }).click()]);
    assert(await page.getByText('Primary colour must be a colour like').isVisible(), 'colour error shown');
    await check(page, 'portal settings (errors)');
    await page.goto(`${base}/settings/portal`);
    // Logo: a real PNG; an SVG is refused.
    const svgPath = path.join(os.tmpdir(), `tier0-e2e-${process.pid}.svg`);
    fs.writeFileSync(svgPath, '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    await page.getByLabel('Logo image').setInputFiles(svgPath);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Upload logo' }).click()]);
    assert(await page.getByText('SVG is not accepted').first().isVisible(), 'SVG refused');
    await page.getByLabel('Logo image').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png(64, [11, 122, 117]) });
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Upload logo' }).click()]);
    assert(await page.getByText('The logo was uploaded.').isVisible(), 'uploaded');
    const logoOk = await page.locator('.brand img').evaluate((img) => img.complete && img.naturalWidth === 64);
    assert(logoOk, 'the header shows the uploaded logo');
    await check(page, 'portal settings (logo)');
    await screenshots(page, 'settings-portal');
    // Hide Knowledge: its tab disappears from the portal.
    await page.getByLabel('Knowledge Base').uncheck();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save settings' }).click()]);
    await visit(page, `${base}/portal/status`, { name: 'portal status (knowledge hidden)' });
    const tabs = page.getByRole('navigation', { name: 'Portal sections' });
    assert(await tabs.getByRole('link', { name: 'Knowledge Base' }).count() === 0, 'Knowledge tab gone');
    assert(await tabs.getByRole('link', { name: 'Status' }).count() === 1, 'Status tab still there');
    await screenshots(page, 'portal-status-branded');
    await visit(page, `${base}/portal/knowledge`, { status: 404, name: 'hidden knowledge page' });
    // Hide Status: the tab's own URL and its API answer 404.
    await visit(page, `${base}/settings/portal`, { name: 'portal settings' });
    await page.getByLabel('Status', { exact: true }).uncheck();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save settings' }).click()]);
    await visit(page, `${base}/portal/status`, { status: 404, name: 'hidden status page' });
    assert((await requester.api.get('/api/status', 404)).json.error.code === 'not_found', 'status API hidden');
    // Back on.
    await visit(page, `${base}/settings/portal`, { name: 'portal settings' });
    await page.getByLabel('Status', { exact: true }).check();
    await page.getByLabel('Knowledge Base').check();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save settings' }).click()]);
    await visit(page, `${base}/portal/status`, { name: 'portal status' });
    await page.context().close();
  });

  // ---- Service desk: catalog, requests, approvals, agent workspace ----------
  const agent = await invite(base, admin.api, 'fulfiller', 'fran@example.com');
  const hardware = (await admin.api.post('/api/itsm/catalog/categories', { name: 'Hardware', description: 'Computers, screens and phones' }, 201)).json;
  const laptopItem = (await admin.api.post('/api/itsm/catalog', {
    name: 'New laptop', description: 'A laptop for work, set up with your account.', icon: 'laptop', category_id: hardware.id,
    fulfillment_target_hours: 48,
    fields: [
      { key: 'model', label: 'Model', type: 'select', required: true, options: ['13 inch', '15 inch'], help: 'Most people choose 13 inch.' },
      { key: 'needed_by', label: 'Needed by', type: 'date' },
      { key: 'extras', label: 'Extras', type: 'multiselect', options: ['Mouse', 'Headset'] },
      { key: 'old_returned', label: 'I will return my old laptop', type: 'checkbox', required: true },
    ],
  }, 201)).json;
  const approvalFlow = (await admin.api.post('/api/itsm/workflows', { name: 'Operator approval', stages: [{ approvers: { users: [operator.email] }, rule: 'any' }] }, 201)).json;
  await admin.api.post('/api/itsm/catalog', { name: 'Admin rights', description: 'Install software yourself.', icon: 'security', workflow_definition_id: approvalFlow.id, fulfillment_target_hours: 4 }, 201);

  await journey('service desk: from the catalog to a resolved request while an agent works it', async () => {
    const rita = await newPage();
    await signIn(rita, requester, '/portal');
    await visit(rita, `${base}/portal`, { name: 'service catalog' });
    assert(await rita.getByText('Usually done within 2 days').isVisible(), 'fulfilment time shown');
    assert(await rita.getByText('Needs approval').isVisible(), 'approval shown');
    await screenshots(rita, 'portal-catalog');
    await Promise.all([rita.waitForNavigation(), rita.getByRole('link', { name: 'New laptop' }).click()]);
    await check(rita, 'request form');
    await screenshots(rita, 'request-form');
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Submit request' }).click()]);
    assert(await rita.getByText('Model is required').isVisible(), 'missing answer shown next to its field');
    await check(rita, 'request form (errors)');
    await rita.getByLabel('Model').selectOption('15 inch');
    await rita.getByLabel('Headset').check();
    await rita.getByLabel('I will return my old laptop').check();
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Submit request' }).click()]);
    assert(await rita.getByText('your request was submitted').isVisible(), 'filed');
    const requestUrl = rita.url().split('?')[0];
    const rid = requestUrl.split('/').pop();
    await check(rita, 'request detail (requester)');
    await screenshots(rita, 'request-detail');

    const fran = await newPage();
    await signIn(fran, agent, '/itsm');
    await visit(fran, `${base}/itsm`, { name: 'itsm dashboard' });
    await screenshots(fran, 'itsm-dashboard');
    await visit(fran, `${base}/itsm/requests?status=active`, { name: 'itsm queue' });
    await screenshots(fran, 'itsm-queue');
    await Promise.all([fran.waitForNavigation(), fran.getByRole('link', { name: /New laptop/ }).click()]);
    await check(fran, 'request detail (agent)');
    await Promise.all([fran.waitForNavigation(), fran.getByRole('button', { name: 'Assign to me' }).click()]);
    assert(await fran.getByText('The request was updated.').isVisible(), 'assigned');
    await fran.getByLabel('Note for agents').fill('Check stock of 15 inch first.');
    await Promise.all([fran.waitForNavigation(), fran.getByRole('button', { name: 'Add internal note' }).click()]);
    await fran.getByLabel('Comment').fill('Which keyboard layout do you need?');
    await Promise.all([fran.waitForNavigation(), fran.getByRole('button', { name: 'Wait for the requester' }).click()]);
    assert(await fran.getByText('Internal note — not visible to the requester').isVisible(), 'the note is marked');
    await check(fran, 'request detail (agent, after work)');
    await screenshots(fran, 'itsm-request');

    await visit(rita, requestUrl, { name: 'request detail (waiting on requester)' });
    assert(await rita.getByText('Which keyboard layout do you need?').first().isVisible(), 'the question is shown');
    assert(await rita.getByText('Check stock').count() === 0, 'the internal note is not');
    await rita.getByLabel('Your reply').fill('UK layout, please.');
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Send reply' }).click()]);
    assert(await rita.locator('.status-line .pill').first().innerText() === 'In progress', 'the reply resumes work');

    await visit(fran, `${base}/itsm/requests/${rid}`, { name: 'request detail (agent)' });
    await Promise.all([fran.waitForNavigation(), fran.getByRole('button', { name: 'Resolve' }).click()]);
    await visit(rita, `${base}/portal/requests`, { name: 'my requests' });
    assert(await rita.locator('td .pill', { hasText: 'Resolved' }).count() === 1, 'resolved in the list');
    await screenshots(rita, 'my-requests');
    await visit(rita, requestUrl, { name: 'request detail (resolved)' });
    assert(await rita.getByRole('button', { name: 'Reopen' }).isVisible(), 'can reopen');
    await visit(rita, `${base}/portal/notifications`, { name: 'notifications' });
    assert(await rita.locator('.badge').count() === 1, 'unread count in the header');
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Mark all as read' }).click()]);
    assert(await rita.locator('.badge').count() === 0, 'all read');
    await rita.context().close();
    await fran.context().close();
  });

  await journey('service desk: approvals, incidents, catalog builder and workflows', async () => {
    const rita = await newPage();
    await signIn(rita, requester, '/portal');
    await visit(rita, `${base}/portal?q=admin`, { name: 'catalog search' });
    await Promise.all([rita.waitForNavigation(), rita.getByRole('link', { name: 'Admin rights' }).click()]);
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Submit request' }).click()]);
    assert(await rita.getByText('Waiting for approval').isVisible(), 'waits for approval');
    await check(rita, 'request detail (pending approval)');
    const opPage = await newPage();
    await signIn(opPage, operator, '/portal/approvals');
    await visit(opPage, `${base}/portal/approvals`, { name: 'approvals' });
    await screenshots(opPage, 'approvals');
    await opPage.getByLabel('Comment').first().fill('Only for the design tools.');
    await Promise.all([opPage.waitForNavigation(), opPage.getByRole('button', { name: /^Approve/ }).first().click()]);
    assert(await opPage.getByText('You approved the request.').isVisible(), 'approved');
    await check(opPage, 'approvals (decided)');
    // Incidents.
    await visit(opPage, `${base}/itsm/incidents/new`, { name: 'report an incident' });
    await Promise.all([opPage.waitForNavigation(), opPage.getByRole('button', { name: 'Report incident' }).click()]);
    await check(opPage, 'report an incident (errors)');
    await opPage.getByLabel('Title').fill('Printers down on floor 2');
    await Promise.all([opPage.waitForNavigation(), opPage.getByRole('button', { name: 'Report incident' }).click()]);
    await check(opPage, 'incident');
    await visit(opPage, `${base}/itsm/incidents`, { name: 'incidents' });
    // Catalog administration: build a form, preview it, save, publish.
    const adm = await newPage();
    await signIn(adm, admin, '/itsm/catalog');
    await visit(adm, `${base}/itsm/catalog`, { name: 'catalog admin' });
    await visit(adm, `${base}/itsm/catalog/new`, { name: 'new catalog item' });
    await adm.getByLabel('Name', { exact: true }).fill('Second monitor');
    const add = adm.locator('#new-field');
    await add.getByLabel('Question').fill('Screen size');
    await add.getByLabel('Answer type').selectOption('select');
    await add.getByLabel('Choices').fill('24 inch\n27 inch');
    await Promise.all([adm.waitForNavigation(), add.getByRole('button', { name: 'Add question' }).click()]);
    await adm.locator('#new-field').getByLabel('Question').fill('Why');
    await adm.locator('#new-field').getByLabel('Answer type').selectOption('textarea');
    await Promise.all([adm.waitForNavigation(), adm.locator('#new-field').getByRole('button', { name: 'Add question' }).click()]);
    await Promise.all([adm.waitForNavigation(), adm.getByRole('button', { name: 'Move up question 2' }).click()]);
    assert(await adm.locator('#field-0 legend').innerText() === 'Question 1: Why', 'moved up');
    assert(await adm.locator('.preview-card').getByLabel('Screen size').count() === 1, 'the preview shows the form');
    await check(adm, 'catalog item editor (builder)');
    await screenshots(adm, 'catalog-editor');
    await Promise.all([adm.waitForNavigation(), adm.getByRole('button', { name: 'Save item' }).first().click()]);
    assert(await adm.getByText('The item was created.').isVisible(), 'created');
    await visit(adm, `${base}/itsm/catalog`, { name: 'catalog admin (items)' });
    await Promise.all([adm.waitForNavigation(), adm.getByRole('button', { name: 'Publish Second monitor' }).click()]);
    assert(await adm.getByText('The item is published').isVisible(), 'published');
    await visit(adm, `${base}/itsm/workflows/new`, { name: 'new workflow' });
    await adm.getByLabel('Name').fill('Two steps');
    await Promise.all([adm.waitForNavigation(), adm.getByRole('button', { name: 'Add a step' }).click()]);
    await adm.locator('#stage-0').getByLabel('People').fill(operator.email);
    await adm.locator('#stage-1').getByLabel('operator').check();
    await Promise.all([adm.waitForNavigation(), adm.getByRole('button', { name: 'Save workflow' }).first().click()]);
    assert(await adm.getByText('The workflow was created.').isVisible(), 'workflow created');
    await check(adm, 'workflow editor (saved)');
    await visit(adm, `${base}/itsm/workflows`, { name: 'workflows' });
    await rita.context().close();
    await opPage.context().close();
    await adm.context().close();
  });

  // ---- Knowledge: from "I have a problem" to solved or filed with context ----
  const kbArticle = (await admin.api.post('/api/itsm/kb/articles', {
    title: 'Reset your password', category: 'Accounts', tags: ['password', 'sign-in'], status: 'published',
    body_markdown: '## Forgot your password?\n\n1. Open **https://account.example.com**.\n2. Choose *Forgot password*.\n3. Follow the link we e-mail you.\n\nThe link works for 30 minutes.',
  }, 201)).json;
  await admin.api.post('/api/itsm/kb/articles', {
    title: 'Connect to the office Wi-Fi', category: 'Network', tags: ['wifi'], status: 'published',
    body_markdown: 'Choose the **Acme-Staff** network and sign in with your work account.',
  }, 201);

  await journey('knowledge: a typo still finds the article; not helpful; the request is filed pre-filled, answered and resolved', async () => {
    const rita = await newPage();
    await signIn(rita, requester, '/portal/knowledge');
    await visit(rita, `${base}/portal/knowledge`, { name: 'knowledge base' });
    await screenshots(rita, 'portal-knowledge');
    await rita.getByLabel('Search the knowledge base').fill('pasword');
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Search' }).click()]);
    await check(rita, 'knowledge search (typo)');
    const hit = rita.getByRole('link', { name: 'Reset your password' }).first();
    assert(await hit.isVisible(), '"pasword" finds "Reset your password"');
    assert(await rita.locator('mark').count() > 0, 'matched words are marked');
    await screenshots(rita, 'knowledge-search');
    await Promise.all([rita.waitForNavigation(), hit.click()]);
    await check(rita, 'article');
    assert(await rita.getByRole('heading', { name: 'Was this helpful?' }).isVisible(), 'asks for feedback');
    await screenshots(rita, 'article');
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'No', exact: true }).click()]);
    await check(rita, 'article (not helpful)');
    await Promise.all([rita.waitForNavigation(), rita.getByRole('link', { name: 'Still need help? Submit a request' }).first().click()]);
    await check(rita, 'submit a request (pre-filled from the article)');
    const summary = await rita.getByLabel('Summary').inputValue();
    assert(summary.length > 0, 'the title is pre-filled');
    const details = await rita.getByLabel('Details').inputValue();
    assert(details.includes('Reset your password') || details.includes(kbArticle.number), `the article is named in the details: ${details}`);
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Submit request' }).click()]);
    assert(await rita.getByText('your request was submitted').isVisible(), 'filed');
    const requestUrl = rita.url().split('?')[0];
    const rid = requestUrl.split('/').pop();
    // It is in My Requests.
    await visit(rita, `${base}/portal/requests`, { name: 'my requests' });
    assert(await rita.getByRole('link', { name: summary }).first().isVisible(), 'listed in My Requests');
    // The agent asks something back (API); the requester replies in the page.
    await agent.api.post(`/api/itsm/requests/${rid}/comments`, { body: 'Does the reset mail arrive at all?' }, 201);
    await agent.api.post(`/api/itsm/requests/${rid}/transition`, { to: 'in_progress' }, 200);
    await agent.api.post(`/api/itsm/requests/${rid}/transition`, { to: 'waiting_on_customer' }, 200);
    await visit(rita, requestUrl, { name: 'request detail (question from the desk)' });
    assert(await rita.getByText('Does the reset mail arrive at all?').first().isVisible(), 'the question is shown');
    await rita.getByLabel('Your reply').fill('No, nothing in my inbox or spam.');
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Send reply' }).click()]);
    assert(await rita.locator('.status-line .pill').first().innerText() === 'In progress', 'the reply resumes work');
    // The requester marks it resolved herself.
    await Promise.all([rita.waitForNavigation(), rita.getByRole('button', { name: 'Mark as resolved' }).click()]);
    assert(await rita.locator('.status-line .pill').first().innerText() === 'Resolved', 'resolved');
    await check(rita, 'request detail (resolved by the requester)');
    const fb = (await admin.api.get(`/api/itsm/kb/articles/${kbArticle.id}`)).json;
    assert(fb.helpful_no >= 1, 'the "no" was recorded');
    await rita.context().close();
  });

  await journey('knowledge: "this solved my problem" counts as a deflection; typing a request title suggests articles', async () => {
    const colin = await newPage();
    await signIn(colin, colleague, '/portal/request/new');
    await visit(colin, `${base}/portal/request/new`, { name: 'submit a request' });
    await colin.getByLabel('Summary').pressSequentially('wifi keeps dropping', { delay: 20 });
    const box = colin.getByRole('region', { name: 'Articles that may help' });
    await box.waitFor({ state: 'visible', timeout: 5000 });
    assert(await box.getByRole('link', { name: 'Connect to the office Wi-Fi' }).isVisible(), '"wifi" suggests the Wi-Fi article');
    await check(colin, 'submit a request (suggestions)');
    await screenshots(colin, 'request-suggestions');
    await Promise.all([colin.waitForNavigation(), box.getByRole('link', { name: 'Connect to the office Wi-Fi' }).click()]);
    await Promise.all([colin.waitForNavigation(), colin.getByRole('button', { name: 'Yes, this solved my problem' }).click()]);
    assert(await colin.getByText('no request needed').isVisible(), 'thanked, no request');
    await check(colin, 'article (solved)');
    await colin.context().close();
  });

  await journey('knowledge authoring: live preview, publish, searchable in the portal within a second', async () => {
    const page = await newPage();
    await signIn(page, operator, '/itsm/kb/new');
    await visit(page, `${base}/itsm/kb/new`, { name: 'new article' });
    await page.getByLabel('Title').fill('Scan to e-mail on the office printers');
    await page.getByLabel('Tags').fill('printer, scanner');
    await page.getByLabel(/^Body/).fill('## Scan a document\n\n1. Tap **Scan to me** on the printer.\n2. Badge in.\n<script>alert(1)</script>');
    const preview = page.locator('#kb-preview');
    await preview.locator('h2', { hasText: 'Scan a document' }).waitFor({ timeout: 5000 });
    assert(await preview.locator('strong', { hasText: 'Scan to me' }).count() === 1, 'the preview renders Markdown live');
    assert(await preview.locator('script').count() === 0, 'the preview is sanitised');
    await check(page, 'new article (live preview)');
    await screenshots(page, 'kb-editor');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save and publish' }).click()]);
    await check(page, 'article (authoring view)');
    const t0 = Date.now();
    let found = false;
    while (!found && Date.now() - t0 < 1500) {
      const r = await requester.api.post('/api/itsm/kedb/search', { query: 'scan to email' }, 200);
      found = r.json.items.some((i) => i.title === 'Scan to e-mail on the office printers');
      if (!found) await new Promise((res) => setTimeout(res, 100));
    }
    assert(found, 'published article searchable within about a second');
    await visit(page, `${base}/itsm/kb?filter=draft`, { name: 'knowledge list (drafts)' });
    await page.context().close();
  });

  // ---- Admin: invite someone with a role; they sign up and land -------------
  await journey('admin: invite a fulfiller from Settings; the invitee signs up and lands in the agent workspace', async () => {
    const adm = await newPage();
    await signIn(adm, admin, '/settings/users');
    await visit(adm, `${base}/settings/users`, { name: 'users & access' });
    await screenshots(adm, 'settings-users');
    await adm.getByLabel('E-mail address').fill('newagent@example.com');
    await adm.getByLabel('Role', { exact: true }).selectOption('fulfiller');
    await Promise.all([adm.waitForNavigation(), adm.getByRole('button', { name: 'Create invitation link' }).click()]);
    await check(adm, 'users & access (invited)');
    const link = await adm.getByLabel('Invitation link').inputValue();
    assert(link.includes('/signup?token='), `an invitation link is shown: ${link}`);
    assert(await adm.getByText('newagent@example.com').first().isVisible(), 'listed as pending');
    const invitee = await newPage();
    await visit(invitee, link.replace(/^https?:\/\/[^/]+/, base), { name: 'sign up from invite' });
    assert(await invitee.getByText('You were invited as').isVisible(), 'the role is shown');
    await invitee.getByLabel('Your name').fill('Nina Newagent');
    await invitee.getByLabel('Choose a password').fill('password');
    await Promise.all([invitee.waitForNavigation(), invitee.getByRole('button', { name: 'Create account' }).click()]);
    assert(await invitee.getByRole('alert').first().isVisible(), 'a weak password is refused next to the field');
    await check(invitee, 'sign up (errors)');
    await invitee.getByLabel('Choose a password').fill(PASSWORD);
    await Promise.all([invitee.waitForNavigation(), invitee.getByRole('button', { name: 'Create account' }).click()]);
    assert(new URL(invitee.url()).pathname.startsWith('/itsm'), `a fulfiller lands in /itsm, got ${invitee.url()}`);
    await check(invitee, 'itsm dashboard (new agent)');
    // The link worked once.
    await invitee.context().close();
    const again = await newPage();
    const res = await again.goto(link.replace(/^https?:\/\/[^/]+/, base));
    assert(res.status() >= 400, 'the invitation cannot be used twice');
    await again.context().close();
    // The admin sees the new person and can change their role.
    await visit(adm, `${base}/settings/users`, { name: 'users & access' });
    assert(await adm.getByText('Nina Newagent').first().isVisible(), 'the new person is listed');
    await adm.context().close();
  });

  await journey('service desk without JavaScript: file a pre-filled request and cancel it', async () => {
    const page = await newPage({ javaScriptEnabled: false });
    await page.goto(`${base}/login?next=%2Fportal`);
    await page.getByLabel('E-mail address').fill(colleague.email);
    await page.getByLabel('Password').fill(colleague.password);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    await page.goto(`${base}/portal/request/new?title=${encodeURIComponent('Printer jams')}&details=${encodeURIComponent('Tray 2')}`);
    await check(page, 'submit a request (no JS)', { axe: false });
    assert(await page.getByLabel('Summary').inputValue() === 'Printer jams', 'pre-filled');
    assert(await page.getByText('Also create an incident').count() === 0, 'no incident box for requesters');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Submit request' }).click()]);
    assert(await page.getByText('your request was submitted').isVisible(), 'filed');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Cancel the request' }).click()]);
    assert(await page.getByText('The status was changed.').isVisible(), 'cancelled');
    assert(await page.locator('.status-line .pill').first().innerText() === 'Cancelled', 'shows cancelled');
    await page.context().close();
  });

  await journey('without JavaScript: sign in, navigate, dismiss', async () => {
    await op.post('/api/itsm/announcements', { body: 'Office Wi-Fi password changes on Monday.' }, 201);
    const page = await newPage({ javaScriptEnabled: false });
    await page.goto(`${base}/portal/status`);
    assert(new URL(page.url()).pathname === '/login', 'sent to sign in');
    // axe needs timers, which do not run with JavaScript off; these pages
    // are the same HTML that the journeys above check with axe.
    await check(page, 'sign-in (no JS)', { axe: false });
    await page.getByLabel('E-mail address').fill(colleague.email);
    await page.getByLabel('Password').fill(colleague.password);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert(new URL(page.url()).pathname === '/portal/status', `landed on ${page.url()}`);
    await check(page, 'portal status (no JS)', { axe: false });
    assert(await page.getByText('Office Wi-Fi password changes on Monday.').isVisible(), 'banner shown');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /Dismiss/ }).first().click()]);
    assert(new URL(page.url()).pathname === '/portal/status', 'back after dismissing');
    // The account menu is a <details>: it opens without JavaScript.
    await page.locator('.user-menu summary').click();
    assert(await page.getByRole('button', { name: 'Sign out' }).isVisible(), 'menu opens');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()]);
    assert(new URL(page.url()).pathname === '/login', 'signed out');
    await page.context().close();
  });

  return results;
}

// ---- A first-time user on the demo organisation -------------------------------
//
// Three everyday tasks, each in four actions or fewer from the portal's
// landing page (a click, a fill or a key press is one action).

async function firstTimeUser(browser, server) {
  const base = server.base;
  const signIns = server.stdout();
  const row = signIns.split('\n').find((l) => l.includes('requester@example.com'));
  assert(row, `the demo requester is printed:\n${signIns}`);
  const password = row.trim().split(/\s{2,}/).pop();
  const results = [];
  const task = async (name, limit, fn) => {
    const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const page = watch(await ctx.newPage());
    page._base = base;
    try {
      await signIn(page, { email: 'requester@example.com', password }, '/');
      assert(new URL(page.url()).pathname === '/portal', `a requester lands on the portal, got ${page.url()}`);
      let actions = 0;
      const act = async (p) => { actions += 1; return p; };
      await fn(page, act);
      assert(actions <= limit, `${name}: ${actions} actions (limit ${limit})`);
      results.push({ name, ok: true });
      log(`  ok    first-time user: ${name} in ${actions} action(s), on a phone`);
    } catch (e) {
      results.push({ name, ok: false, error: e });
      log(`  FAIL  first-time user: ${name}: ${e.stack || e}`);
    } finally {
      await ctx.close();
    }
  };
  await task('reset my password via the knowledge base', 4, async (page, act) => {
    await check(page, 'demo portal (phone)');
    await screenshots(page, 'demo-portal');
    await act(Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Knowledge Base' }).first().click()]));
    await act(page.getByLabel('Search the knowledge base').fill('forgot my pasword'));
    await act(Promise.all([page.waitForNavigation(), page.getByLabel('Search the knowledge base').press('Enter')]));
    await check(page, 'demo knowledge search (phone)');
    await act(Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Reset your password' }).first().click()]));
    assert(await page.getByRole('heading', { level: 1, name: 'Reset your password' }).isVisible(), 'the article is open');
    await check(page, 'demo article (phone)');
    await screenshots(page, 'demo-article');
  });
  await task('request VPN access', 4, async (page, act) => {
    await act(Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Request VPN access' }).first().click()]));
    await check(page, 'demo VPN form (phone)');
    await act(page.getByLabel('What do you need to reach from outside the office?').fill('The finance system from home on Fridays.'));
    await act(Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Submit request' }).click()]));
    assert(await page.getByText('your request was submitted').isVisible(), 'filed');
    await check(page, 'demo VPN request (phone)');
  });
  await task("check my request's status", 4, async (page, act) => {
    await act(Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'My Requests' }).first().click()]));
    const first = page.locator('tbody tr').first();
    assert(await first.locator('.pill').first().isVisible(), 'each request shows its status');
    assert(await page.getByText('Request VPN access').first().isVisible(), 'the new request is listed');
    await check(page, 'demo my requests (phone)');
    await screenshots(page, 'demo-my-requests');
  });
  return results;
}

// ---- main -------------------------------------------------------------------------

async function main() {
  if (!fs.existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    skip('playwright-core is not installed (run npm ci in e2e/)');
  }
  fs.mkdirSync(SHOTS, { recursive: true });
  const bin = binary();
  assert(fs.existsSync(bin), `no tier0 binary at ${bin}`);
  // The journeys (not the build) must finish in bounded time.
  const timer = setTimeout(() => { console.error(`e2e journeys exceeded ${RUN_TIMEOUT_MS / 1000} s`); process.exit(1); }, RUN_TIMEOUT_MS);
  timer.unref();
  const server = await startServer(bin);
  process.on('exit', () => { try { server.child.kill('SIGKILL'); } catch { /* gone */ } });
  log(`==> tier0 at ${server.base} (data in ${server.dataDir})`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  let results = [];
  let demo = null;
  try {
    results = await journeys(browser, server.base);
    demo = await startServer(bin, ['--demo']);
    process.on('exit', () => { try { demo.child.kill('SIGKILL'); } catch { /* gone */ } });
    log(`==> tier0 --demo at ${demo.base}`);
    results = results.concat(await firstTimeUser(browser, demo));
  } finally {
    await browser.close().catch(() => {});
    for (const s of [server, demo].filter(Boolean)) {
      s.child.kill('SIGTERM');
      fs.rmSync(s.dataDir, { recursive: true, force: true });
    }
  }
  fs.writeFileSync(path.join(ARTIFACTS, 'pages.json'), JSON.stringify(checked, null, 2));
  const failed = results.filter((r) => !r.ok);
  const max = checked.reduce((m, c) => Math.max(m, c.css_js_bytes), 0);
  log(`\n${results.length - failed.length}/${results.length} journeys passed; ${checked.length} page checks (axe, CSS+JS ≤ ${BUDGET_BYTES} bytes: largest ${max}); screenshots in ${path.relative(ROOT, SHOTS)}`);
  if (failed.length) {
    const errs = server.stderr().split('\n').filter((l) => /ERROR|panic/.test(l)).slice(-20);
    if (errs.length) log(`server errors:\n${errs.join('\n')}`);
    process.exit(1);
  }
}

main().catch((e) => { console.error(e.stack || e); process.exit(1); });
