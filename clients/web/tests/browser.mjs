// Shared by the web console's browser tests: a real marketd on loopback with a
// fresh data dir (restartable on the same ports), the HTTP/JSON API for the
// steps a test does not drive through the page, and Debian's chromium driven
// by playwright-core (from package.json) with a fresh profile. Screenshots of
// the main pages go to docs/screenshots/ with MARKET_UPDATE_SCREENSHOTS=1.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';

export const source = process.env.MARKET_SOURCE_DIR;
const marketdBin = process.env.MARKETD_BIN;
const chromiumBin = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
assert.ok(source && marketdBin, 'MARKET_SOURCE_DIR and MARKETD_BIN must be set');
const require = createRequire(join(source, 'package.json'));
const { chromium } = require('playwright-core');

export async function waitFor(predicate, ms, intervalMs = 100) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

function servingPorts(log) {
  for (const line of log.split('\n')) {
    try {
      const j = JSON.parse(line);
      if (j && j.msg === 'serving' && Number.isInteger(j.http_port)) return { grpc: j.grpc_port, http: j.http_port };
    } catch { /* not a JSON line */ }
  }
  return null;
}

// A marketd on loopback: start() on kernel-chosen ports the first time and on
// the same ports after stop(); its clock is shifted by the seconds in
// `clockFile` (see shiftClock).
export class Marketd {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'market-web-'));
    this.dataDir = join(this.dir, 'var');
    this.clockFile = join(this.dir, 'clock-offset');
    this.ports = null;
    this.child = null;
    this.runs = 0;
  }
  get origin() { return `http://127.0.0.1:${this.ports.http}`; }
  log() { try { return readFileSync(join(this.dir, `marketd-${this.runs}.err`), 'utf8'); } catch { return ''; } }
  async start() {
    this.runs += 1;
    const out = openSync(join(this.dir, `marketd-${this.runs}.out`), 'w');
    const err = openSync(join(this.dir, `marketd-${this.runs}.err`), 'w');
    const listen = this.ports ? [`127.0.0.1:${this.ports.grpc}`, `127.0.0.1:${this.ports.http}`]
      : ['127.0.0.1:0', '127.0.0.1:0'];
    this.child = spawn(marketdBin, ['--data-dir', this.dataDir, '--listen', listen[0], '--http-listen', listen[1],
                                    '--clock-offset-file', this.clockFile], { stdio: ['ignore', out, err] });
    closeSync(out);
    closeSync(err);
    this.exited = null;
    this.child.on('exit', (code, signal) => { this.exited = { code, signal }; });
    let ports = null;
    await waitFor(() => { ports = servingPorts(this.log()); return ports !== null || this.exited !== null; }, 60000);
    assert.ok(ports, `marketd did not start: ${JSON.stringify(this.exited)}\n${this.log()}`);
    this.ports = ports;
  }
  async stop() {
    if (this.child && this.exited === null) {
      this.child.kill('SIGTERM');
      if (!(await waitFor(() => this.exited !== null, 10000))) this.child.kill('SIGKILL');
      await waitFor(() => this.exited !== null, 5000);
    }
  }
  async destroy() { await this.stop(); rmSync(this.dir, { recursive: true, force: true }); }
  bootstrap() { return JSON.parse(readFileSync(join(this.dataDir, 'bootstrap-admin.json'), 'utf8')); }
  // Moves marketd's clock `seconds` ahead (re-read on every reading).
  shiftClock(seconds) { writeFileSync(this.clockFile, `${seconds}\n`); }
  // Runs SQL on one of marketd's databases (stopped first by the caller).
  sql(db, statement) { execFileSync('sqlite3', [join(this.dataDir, db), statement]); }

  // Calls the HTTP/JSON API; resolves with the response, throws with the status.
  async api(service, method, body, token) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(`${this.origin}/market.${service}/${method}`,
                          { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`${service}/${method}: HTTP ${r.status} ${text}`);
    return JSON.parse(text);
  }
  async login(subject, password) {
    return (await this.api('identity.v1.IdentityService', 'Login', { subject, password })).accessToken;
  }
  // The bootstrap supervisor changes its password; returns its token.
  async supervisor(password = 'supervisor-password-1') {
    const b = this.bootstrap();
    const first = await this.api('identity.v1.IdentityService', 'Login', { subject: b.subject, password: b.password });
    const changed = await this.api('identity.v1.IdentityService', 'ChangePassword',
      { name: b.subject, oldPassword: b.password, newPassword: password }, first.accessToken);
    return changed.accessToken;
  }
  async createSubject(supervisorToken, id, subject, password) {
    return this.api('identity.v1.IdentityService', 'CreateSubject', { subjectId: id, subject, password },
                    supervisorToken);
  }
}

export const PEOPLE = {
  'east-op': { kind: 'ORGANIZATION', roles: ['OPERATOR'], displayName: '东城跳蚤市场管理处',
               creditCode: '91350100M000100Y43' },
  'seller-li': { kind: 'PERSON', roles: ['SELLER'], displayName: '李四', idNumber: '11010519491231002X' },
  'buyer-zhao': { kind: 'PERSON', roles: ['BUYER'], displayName: '赵六', idNumber: '440524188001010014' },
};
export const PASSWORD = 'web-console-pass-1';

// The supervisor's token after creating the operator, a seller and a buyer
// (each with PASSWORD).
export async function people(server) {
  const sup = await server.supervisor();
  for (const [id, subject] of Object.entries(PEOPLE)) await server.createSubject(sup, id, subject, PASSWORD);
  return sup;
}

// The operator's market "markets/east-flea" with seller-li admitted, and a
// published appliance listing with a disclosed defect; returns its name.
export async function marketWithListing(server) {
  const op = await server.login('subjects/east-op', PASSWORD);
  let m = await server.api('listing.v1.MarketService', 'CreateMarket', { marketId: 'east-flea',
    market: { kind: 'FLEA_MARKET', displayName: '东城跳蚤市场', regionCode: '350102', address: '东街 1 号' } }, op);
  m = await server.api('listing.v1.MarketService', 'AddSeller', { market: m.name, seller: 'subjects/seller-li', etag: m.etag }, op);
  const seller = await server.login('subjects/seller-li', PASSWORD);
  let l = await server.api('listing.v1.ListingService', 'CreateListing', { parent: m.name, listingId: 'fridge-1',
    listing: { category: 'APPLIANCE', title: '海尔双门冰箱', description: '九成新，功能正常',
      price: { amountFen: '80000', currency: 'CNY' },
      declaredCondition: { scheme: 'general-condition-v1', version: 1, level: '9成新' },
      appliance: { brand: 'Haier', model: 'BCD-160', serialNumber: 'SN-WEB-1' },
      disclosedDefects: ['门封条轻微老化'] } }, seller);
  l = await server.api('listing.v1.ListingService', 'PublishListing', { name: l.name, etag: l.etag }, seller);
  return l.name;
}

// A valid PNG of w×h pixels in one colour (what the photo upload sniffs).
export function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([r, g, b], y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
                        chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// Chromium (Debian's) with a fresh profile; every page error or console
// error (a CSP violation is one) is collected in `problems`.
export async function browser(viewport = { width: 900, height: 1000 }) {
  const profile = mkdtempSync(join(tmpdir(), 'market-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumBin, headless: true, viewport, locale: 'zh-CN',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  if (process.env.WEB_DEBUG) page.on('response', (r) => console.error('#', r.status(), r.request().method(), r.url()));
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // An HTTP error answer is logged as "Failed to load resource"; the page shows
  // those itself. Anything else (a CSP violation: "Refused to …") is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return {
    page, problems, context,
    async close() { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}

// Screenshots go to docs/screenshots/ (the README's pictures) only when
// MARKET_UPDATE_SCREENSHOTS=1, so an ordinary test run leaves the tree clean;
// otherwise into the system's temporary folder, still taken (and so checked).
export async function screenshot(page, name) {
  const dir = process.env.MARKET_UPDATE_SCREENSHOTS === '1'
    ? join(source, 'docs', 'screenshots')
    : join(tmpdir(), 'market-console-screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}

// Logs in through the login page.
export async function loginInPage(page, origin, subject, password) {
  await page.goto(`${origin}/#/login`);
  await page.fill('#login-subject', subject);
  await page.fill('#login-secret', password);
  await page.click('#login-submit');
  await page.waitForSelector('#who-name');
}
