// The organiser's journey in a real browser: log in, create a market, admit a
// seller, import a CSV (one bad row reported with its row number), create a
// listing with a photo upload and publish it, and find it in the public search
// with its photo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Marketd, browser, people, loginInPage, screenshot, png, PASSWORD } from './browser.mjs';

let server;
let b;

before(async () => {
  server = new Marketd();
  await server.start();
  await people(server);
  b = await browser();
});
after(async () => {
  if (b) await b.close();
  if (server) await server.destroy();
});

const CSV = [
  'seller,category,title,description,price.amount_fen,declared_condition.level,appliance.brand,appliance.model,appliance.serial_number,disclosed_defects',
  ...Array.from({ length: 24 }, (_, i) => `subjects/seller-li,APPLIANCE,美的电饭煲 ${i + 1},"九成新, 功能正常",${10000 + i * 100},9成新,Midea,M-${i + 1},SN-${i + 1},`),
  'subjects/seller-li,APPLIANCE,价格写错的电饭煲,描述,-5,9成新,Midea,M-X,SN-X,',
].join('\n');

test('the operator logs in and sees its (empty) markets', async () => {
  await loginInPage(b.page, server.origin, 'east-op', PASSWORD);
  await b.page.waitForSelector('#markets-list');
  assert.match(await b.page.textContent('#who-name'), /东城跳蚤市场管理处/);
  assert.match(await b.page.textContent('nav'), /我的市场/);
  assert.doesNotMatch(await b.page.textContent('nav'), /主体管理/, 'supervisor pages are not offered');
});

test('creates a market and admits a seller', async () => {
  const { page } = b;
  await page.fill('#market-id', 'east-flea');
  await page.fill('#market-name', '东城跳蚤市场');
  await page.fill('#market-region', '350102');
  await page.fill('#market-address', '福州市鼓楼区东街 1 号');
  await page.click('#market-submit');
  await page.waitForSelector('#sellers');
  assert.match(await page.textContent('h1'), /东城跳蚤市场/);
  await page.fill('#seller-subject', 'seller-li');
  await page.click('#seller-add');
  await page.waitForSelector('#sellers button[data-seller="subjects/seller-li"]');
});

test('imports a CSV with a progress bar; the bad row is reported by its number', async () => {
  const { page } = b;
  await page.fill('#import-csv', CSV);
  await page.check('#import-publish');
  await page.click('#import-submit');
  await page.waitForFunction(() => /25 \/ 25/.test(document.querySelector('#import-status').textContent), null,
                             { timeout: 30000 });
  const status = await page.textContent('#import-status');
  assert.match(status, /成功 24 行，失败 1 行/);
  const errors = await page.textContent('#import-errors');
  assert.match(errors, /第 25 行/);
  assert.match(errors, /price/);
  assert.equal(await page.getAttribute('#import-progress', 'value'), '25');
  assert.equal(await page.inputValue('#import-csv'), CSV, 'the CSV text stays for correcting the bad row');
  await screenshot(page, 'organizer-import');
});

test('creates a listing with a photo and publishes it', async () => {
  const { page } = b;
  const photo = join(server.dir, 'fridge.png');
  writeFileSync(photo, png(64, 48, [30, 120, 200]));
  await page.fill('#listing-seller', 'seller-li');
  await page.selectOption('#listing-category', 'APPLIANCE');
  await page.fill('#listing-title', '海尔双门冰箱 BCD-160');
  await page.fill('#listing-description', '九成新，制冷正常');
  await page.fill('#listing-price', '800.50');
  await page.selectOption('#listing-grade', '9成新');
  await page.fill('#listing-brand', 'Haier');
  await page.fill('#listing-model', 'BCD-160');
  await page.fill('#listing-identifier', 'SN-FRIDGE-1');
  await page.fill('#listing-defects', '门封条轻微老化');
  await page.setInputFiles('#listing-photos', photo);
  await page.click('#listing-submit');
  await page.waitForFunction(() => /海尔双门冰箱 BCD-160/.test(document.querySelector('#market-listings')?.textContent)
                                   || document.querySelector('#create-listing .error-box'));
  const error = await page.$('#create-listing .error-box');
  assert.equal(error, null, error && await error.textContent());
  const row = page.locator('#market-listings tr', { hasText: '海尔双门冰箱 BCD-160' });
  assert.match(await row.textContent(), /¥800\.50.*在售/);
  assert.equal(await row.locator('img').count(), 1, 'the uploaded photo is on the listing');
  await screenshot(page, 'organizer-market');
});

test('the listing is in the public search with its photo', async () => {
  const { page } = b;
  await page.click('#logout');
  await page.goto(`${server.origin}/#/search`);
  await page.fill('#search-query', '冰箱');
  await page.fill('#search-min', '800');
  await page.fill('#search-max', '801');
  await page.click('#search-submit');
  const card = page.locator('#search-results .listing-card', { hasText: '海尔双门冰箱 BCD-160' });
  await card.waitFor();
  assert.equal(await page.locator('#search-results .listing-card').count(), 1);
  assert.match(await card.textContent(), /¥800\.50/);
  const img = card.locator('img');
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  assert.equal(await img.evaluate((el) => el.naturalWidth), 64, 'the photo is served and decoded');
  await screenshot(page, 'search');
  await card.locator('a').click();
  await page.waitForSelector('#seller-level');
  assert.match(await page.textContent('main'), /门封条轻微老化/);
  assert.match(await page.textContent('main'), /无理由退货/);
  await screenshot(page, 'listing');
});

test('no page error and no Content-Security-Policy violation', () => {
  assert.deepEqual(b.problems, []);
});
