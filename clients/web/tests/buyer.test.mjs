// The buyer's journey in a real browser: find a listing, order it
// acknowledging its disclosed defect, confirm delivery, file a claim and see
// the seller's reply deadline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Marketd, browser, people, marketWithListing, loginInPage, screenshot, PASSWORD } from './browser.mjs';

let server;
let b;
let listing;

before(async () => {
  server = new Marketd();
  await server.start();
  await people(server);
  listing = await marketWithListing(server);
  b = await browser({ width: 420, height: 900 });  // a phone
});
after(async () => {
  if (b) await b.close();
  if (server) await server.destroy();
});

test('the buyer logs in on a phone-sized screen and opens the listing', async () => {
  const { page } = b;
  await loginInPage(page, server.origin, 'buyer-zhao', PASSWORD);
  await page.goto(`${server.origin}/#/listing/${listing}`);
  await page.waitForSelector('#order-form');
  assert.match(await page.textContent('main'), /门封条轻微老化/);
});

test('an order without acknowledging the disclosed defect is refused, with the reason shown', async () => {
  const { page } = b;
  await page.click('#order-submit');
  await page.waitForSelector('#order-form .error-box');
  assert.match(await page.textContent('#order-form .error-box'), /defect|瑕疵|acknowledg/i);
});

test('orders acknowledging the defect and confirms delivery', async () => {
  const { page } = b;
  await page.check('#order-ack');
  await page.click('#order-submit');
  await page.waitForSelector('#orders');
  assert.match(await page.textContent('#orders'), /已下单/);
  await page.click('#orders button[id^="confirm-"]');
  await page.waitForFunction(() => /已交付/.test(document.querySelector('#orders')?.textContent || ''));
  await screenshot(page, 'buyer-orders');
});

test('files a claim and sees its state and the seller\'s reply deadline', async () => {
  const { page } = b;
  await page.click('#orders button[id^="claim-"]');
  await page.selectOption('#claim-kind', 'REFUND');
  await page.fill('#claim-fault-code', 'NOT_COOLING');
  await page.fill('#claim-fault', '冰箱不制冷');
  await page.click('#claim-submit');
  await page.waitForSelector('#claims');
  const row = await page.textContent('#claims');
  assert.match(row, /已提交/);
  assert.match(await page.textContent('#claims .reply-deadline'), /剩余 [23] 天/);
  await screenshot(page, 'buyer-claims');
});

test('the appraisal verify link of an unknown report says it is not found', async () => {
  const { page } = b;
  await page.goto(`${server.origin}/#/verify/appraisals/no-such-report`);
  await page.waitForSelector('#verify-form .error-box');
  assert.match(await page.textContent('#verify-form .error-box'), /未找到/);
  assert.equal(await page.inputValue('#verify-name'), 'appraisals/no-such-report');
});

test('no page error and no Content-Security-Policy violation', () => {
  assert.deepEqual(b.problems, []);
});
