// The statistics page (统计台账) in a real browser: orders made over the JSON
// API reach the ledger; the supervisor queries trade and entity figures by
// market, then "下载 CSV" and "下载 XLSX" save files whose numbers are the
// on-page table's (the XLSX read back with Debian's unzip: a zip holding the
// sheet XML with the title, the Chinese headers and the same numbers); the
// other families' tables carry the downloads' Chinese headers too; the
// operator downloads its own market's figures the same way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Marketd, browser, people, PASSWORD, marketWithListing, loginInPage, screenshot, waitFor } from './browser.mjs';

let server;
let b;
let sup;
let work;
let supervisorSubject;

before(async () => {
  server = new Marketd();
  await server.start();
  b = await browser();
  work = mkdtempSync(join(tmpdir(), 'market-stats-downloads-'));
});
after(async () => {
  if (b) await b.close();
  if (server) await server.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

// The CSV's rows of cells (BOM dropped; no field here needs quoting).
function csvCells(text) {
  assert.equal(text.charCodeAt(0), 0xfeff, 'the CSV starts with a BOM');
  return text.slice(1).split('\r\n').filter((l) => l !== '').map((l) => l.split(','));
}

// The on-page table: header and rows of cell texts.
async function pageTable(page) {
  const header = await page.locator('#stats-table th').allTextContents();
  const rows = [];
  for (const tr of await page.locator('#stats-table tbody tr').all()) rows.push(await tr.locator('td').allTextContents());
  return { header, rows };
}

// Clicks a download link; resolves with the saved file's path and name.
async function downloadVia(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const path = join(work, dl.suggestedFilename());
  await dl.saveAs(path);
  return { path, name: dl.suggestedFilename() };
}

async function query(page, family, groupBy) {
  await page.goto(`${server.origin}/#/stats`);
  await page.waitForSelector('#stats-form');
  await page.selectOption('#stats-family', family);
  await page.selectOption('#stats-period', 'MONTH');
  await page.selectOption('#stats-group', groupBy);
  await page.click('#stats-submit');
  await page.waitForSelector('#stats-table');
  return pageTable(page);
}

// Every figure of the page's table is the same number in `cells` (a download's
// rows after title and header), row by row.
function assertSameNumbers(table, cells, what) {
  assert.equal(cells.length, table.rows.length, `${what}: row count`);
  for (let i = 0; i < table.rows.length; i++) {
    const want = table.rows[i];
    const got = cells.find((r) => r[0] === want[0]);
    assert.ok(got, `${what}: row ${want[0]}`);
    assert.equal(got.length, want.length, `${what}: columns of ${want[0]}`);
    for (let c = 1; c < want.length; c++) {
      assert.equal(Number(got[c]), Number(want[c]), `${what}: ${want[0]} ${table.header[c]}`);
    }
  }
}

test('(set-up over the JSON API) orders in the operator\'s market reach the statistics ledger', async () => {
  supervisorSubject = server.bootstrap().subject;
  sup = await people(server);
  const listing = await marketWithListing(server);
  const buyer = await server.login('subjects/buyer-zhao', PASSWORD);
  const seller = await server.login('subjects/seller-li', PASSWORD);
  const l = await server.api('listing.v1.ListingService', 'GetListing', { name: listing }, buyer);
  let order = await server.api('listing.v1.OrderService', 'PlaceOrder',
    { listing, listingEtag: l.etag, defectsAcknowledged: true }, buyer);
  order = await server.api('listing.v1.OrderService', 'ConfirmDelivery', { name: order.name, etag: order.etag }, buyer);
  await server.api('listing.v1.OrderService', 'CompleteOrder', { name: order.name, etag: order.etag }, buyer);
  // A second listing, published and ordered but not completed.
  let other = await server.api('listing.v1.ListingService', 'CreateListing', { parent: 'markets/east-flea',
    listing: { category: 'APPLIANCE', title: '格兰仕微波炉', price: { amountFen: '20050', currency: 'CNY' },
      declaredCondition: { scheme: 'general-condition-v1', version: 1, level: '9成新' },
      appliance: { brand: 'Galanz', model: 'P70', serialNumber: 'SN-WEB-STATS-2' } } }, seller);
  other = await server.api('listing.v1.ListingService', 'PublishListing', { name: other.name, etag: other.etag }, seller);
  await server.api('listing.v1.OrderService', 'PlaceOrder', { listing: other.name, listingEtag: other.etag }, buyer);
  const now = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);  // China time
  assert.ok(await waitFor(async () => {
    const r = await server.api('stats.v1.StatisticsService', 'QueryTrade',
      { period: 'MONTH', fromDate: now, groupBy: 'MARKET' }, sup);
    const row = (r.rows || [])[0] || {};
    return Number(row.ordersPlaced || 0) === 2 && Number(row.ordersCompleted || 0) === 1;
  }, 30000), 'the orders reached the statistics ledger');
});

test('the supervisor downloads the trade figures as CSV with the on-page numbers', async () => {
  const { page } = b;
  await loginInPage(page, server.origin, supervisorSubject, 'supervisor-password-1');
  const table = await query(page, 'trade', 'MARKET');
  assert.deepEqual(table.rows.map((r) => r[0]), ['markets/east-flea']);
  assert.equal(table.rows[0][1], '2');          // orders placed
  assert.equal(table.rows[0][5], '800.00');     // gross in 元
  await screenshot(page, 'supervisor-stats');
  const csv = await downloadVia(page, '#stats-csv');
  assert.match(csv.name, /^stats-trade-\d{4}-\d{2}-01_\d{4}-\d{2}-\d{2}\.csv$/);
  const cells = csvCells(readFileSync(csv.path, 'utf8'));
  assert.equal(cells[0][0], `${await page.textContent('#stats-title')} · 按市场`);
  assert.deepEqual(cells[1], table.header);
  assertSameNumbers(table, cells.slice(2), 'CSV');
});

test('the XLSX download is a zip whose sheet holds the title, headers and the same numbers', async () => {
  const { page } = b;
  const table = await query(page, 'trade', 'MARKET');
  const xlsx = await downloadVia(page, '#stats-xlsx');
  assert.match(xlsx.name, /\.xlsx$/);
  const bytes = readFileSync(xlsx.path);
  assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK');
  assert.match(execFileSync('unzip', ['-t', xlsx.path]).toString(), /No errors detected/);
  const sheet = execFileSync('unzip', ['-p', xlsx.path, 'xl/worksheets/sheet1.xml']).toString('utf8');
  assert.match(sheet, /<worksheet/);
  const rows = new Map();
  for (const m of sheet.matchAll(/<c r="[A-Z]+(\d+)"[^>]*>(?:<is><t[^>]*>([^<]*)<\/t><\/is>|<v>([^<]*)<\/v>)<\/c>/g)) {
    const r = Number(m[1]);
    if (!rows.has(r)) rows.set(r, []);
    rows.get(r).push(m[2] !== undefined ? m[2] : m[3]);
  }
  const cells = [...rows.keys()].sort((x, y) => x - y).map((k) => rows.get(k));
  assert.match(cells[0][0], /^交易统计 /);
  assert.deepEqual(cells[1], table.header);
  assertSameNumbers(table, cells.slice(2), 'XLSX');
  assert.match(execFileSync('unzip', ['-l', xlsx.path]).toString(), /xl\/workbook\.xml/);
});

test('the entity figures show the downloads\' Chinese headers and numbers', async () => {
  const { page } = b;
  const table = await query(page, 'entities', 'MARKET');
  assert.deepEqual(table.header, ['分组', '新建挂牌数', '上架数', '下架数', '售出数', '售出天数中位数',
    '售出天数均值', '活跃市场数', '活跃卖家数', '新增卖家数']);
  const cells = csvCells(readFileSync((await downloadVia(page, '#stats-csv')).path, 'utf8'));
  assert.match(cells[0][0], /^市场主体统计 /);
  assert.deepEqual(cells[1], table.header);
  assertSameNumbers(table, cells.slice(2), 'entities CSV');
});

test('the credit figures\' headers are Chinese, as in the download', async () => {
  const { page } = b;
  // The completed order's credit records reach the ledger through two outboxes.
  const now = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);  // China time
  assert.ok(await waitFor(async () => {
    const r = await server.api('stats.v1.StatisticsService', 'QueryCredit', { period: 'MONTH', fromDate: now }, sup);
    return (r.rows || []).length > 0;
  }, 30000), 'credit figures reached the statistics ledger');
  const table = await query(page, 'credit', '');
  assert.equal(table.header[1], '新增信用记录');
  for (const text of table.header) assert.doesNotMatch(text, /^[a-z_]+$/, `raw column name ${text}`);
  const cells = csvCells(readFileSync((await downloadVia(page, '#stats-csv')).path, 'utf8'));
  assert.match(cells[0][0], /^信用统计 /);
  assert.deepEqual(cells[1], table.header);
});

test('the operator downloads its own market\'s figures', async () => {
  const { page } = b;
  await page.click('#logout');
  await loginInPage(page, server.origin, 'subjects/east-op', PASSWORD);
  assert.match(await page.textContent('nav'), /统计台账/);
  const table = await query(page, 'trade', 'MARKET');
  const cells = csvCells(readFileSync((await downloadVia(page, '#stats-csv')).path, 'utf8'));
  assertSameNumbers(table, cells.slice(2), 'operator CSV');
  // Another market's figures are refused, next to the form.
  await page.fill('#stats-market', 'west-flea');
  await page.click('#stats-submit');
  await page.waitForSelector('.error-box');
  assert.match(await page.textContent('.error-box'), /无权限/);
});

test('no page error and no Content-Security-Policy violation', () => {
  assert.deepEqual(b.problems, []);
});
