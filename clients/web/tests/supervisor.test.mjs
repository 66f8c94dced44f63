// The supervisor's journey in a real browser: the bootstrap supervisor's
// first login forces a password change; a buyer's claim the seller rejected
// is escalated; the supervisor looks up the seller's credit (giving a
// purpose), rules the claim UPHELD, and the seller's level drops (B → C: an
// earlier removed listing cost −10, the upheld claim −50).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Marketd, browser, PEOPLE, PASSWORD, marketWithListing, screenshot, waitFor } from './browser.mjs';

let server;
let b;
const NEW_PASSWORD = 'supervisor-password-1';
let boot;  // the bootstrap file is gone once the password is changed

before(async () => {
  server = new Marketd();
  await server.start();
  b = await browser();
});
after(async () => {
  if (b) await b.close();
  if (server) await server.destroy();
});

test('the bootstrap supervisor logs in and must change its password first', async () => {
  const { page } = b;
  boot = server.bootstrap();
  await page.goto(`${server.origin}/#/login`);
  await page.fill('#login-subject', boot.subject);
  await page.fill('#login-secret', boot.password);
  await page.click('#login-submit');
  await page.waitForSelector('#login-change');
  await page.fill('#login-new-password', NEW_PASSWORD);
  await page.click('#login-change-submit');
  await page.waitForSelector('#subjects');
  assert.match(await page.textContent('nav'), /待裁决/);
});

test('(set-up over the JSON API) a claim rejected by the seller is escalated by the buyer', async () => {
  const sup = await server.login(boot.subject, NEW_PASSWORD);
  for (const [id, subject] of Object.entries(PEOPLE)) await server.createSubject(sup, id, subject, PASSWORD);
  const listing = await marketWithListing(server);
  const seller = await server.login('subjects/seller-li', PASSWORD);
  const buyer = await server.login('subjects/buyer-zhao', PASSWORD);
  // A second listing removed as misleading: LISTING_REMOVED (MINOR, −10).
  let other = await server.api('listing.v1.ListingService', 'CreateListing', { parent: 'markets/east-flea',
    listing: { category: 'APPLIANCE', title: '夸大描述的微波炉', price: { amountFen: '20000', currency: 'CNY' },
      declaredCondition: { scheme: 'general-condition-v1', version: 1, level: '全新' },
      appliance: { brand: 'Galanz', model: 'P70', serialNumber: 'SN-WEB-2' } } }, seller);
  other = await server.api('listing.v1.ListingService', 'PublishListing', { name: other.name, etag: other.etag }, seller);
  await server.api('listing.v1.ListingService', 'RemoveListing',
    { name: other.name, cause: 'MISLEADING', reason: '成色描述不实', etag: other.etag }, sup);
  const l = await server.api('listing.v1.ListingService', 'GetListing', { name: listing }, buyer);
  let order = await server.api('listing.v1.OrderService', 'PlaceOrder',
    { listing, listingEtag: l.etag, defectsAcknowledged: true }, buyer);
  order = await server.api('listing.v1.OrderService', 'ConfirmDelivery', { name: order.name, etag: order.etag }, buyer);
  let claim = await server.api('warranty.v1.WarrantyService', 'FileClaim',
    { claim: { order: order.name, kind: 'REFUND', faultCode: 'NOT_COOLING', faultDescription: '不制冷' } }, buyer);
  claim = await server.api('warranty.v1.WarrantyService', 'RespondToClaim',
    { name: claim.name, decision: 'REJECT', reason: '人为损坏', etag: claim.etag }, seller);
  await server.api('warranty.v1.WarrantyService', 'EscalateClaim',
    { name: claim.name, reason: '并非人为损坏', etag: claim.etag }, buyer);
  // The removal's credit record arrives through the outbox.
  assert.ok(await waitFor(async () => {
    const p = await server.api('credit.v1.CreditService', 'GetCreditProfile',
      { name: 'subjects/seller-li/creditProfile', purpose: 'test set-up' }, sup);
    return p.score === 590;
  }, 20000), 'the LISTING_REMOVED record reached the ledger');
});

async function lookUpSellerLevel(page) {
  await page.goto(`${server.origin}/#/sup/credit`);
  await page.fill('#lookup-subject', 'seller-li');
  await page.fill('#lookup-purpose', '处理售后争议前核查卖家信用');
  await page.click('#lookup-submit');
  await page.waitForSelector('#lookup-level');
  return page.textContent('#lookup-level');
}

test('the credit lookup asks for a purpose and shows the seller at level B', async () => {
  const { page } = b;
  await page.goto(`${server.origin}/#/sup/credit`);
  await page.fill('#lookup-subject', 'seller-li');
  await page.fill('#lookup-purpose', '');
  await page.click('#lookup-submit');
  assert.equal(await page.$('#lookup-level'), null, 'no lookup without a purpose');
  assert.match(await lookUpSellerLevel(page), /^B/);
});

test('the supervisor rules the escalated claim UPHELD', async () => {
  const { page } = b;
  await page.goto(`${server.origin}/#/sup/rulings`);
  const card = page.locator('.claim').first();
  await card.waitFor();
  assert.match(await card.textContent(), /人为损坏/);
  await screenshot(page, 'supervisor-rulings');
  await card.locator('select[name=outcome]').selectOption('UPHELD');
  await card.locator('input[name=reason]').fill('检测报告显示压缩机故障，非人为损坏');
  await card.locator('button[type=submit]').click();
  await page.waitForSelector('#no-rulings');
});

test('the seller\'s level drops from B to C', async () => {
  const { page } = b;
  let level = '';
  assert.ok(await waitFor(async () => { level = await lookUpSellerLevel(page); return /^C/.test(level); }, 30000, 500),
            `level is ${level}`);
  assert.match(await page.textContent('#lookup-result'), /CLAIM_UPHELD/);
  await screenshot(page, 'supervisor-credit');
});

test('no page error and no Content-Security-Policy violation', () => {
  assert.deepEqual(b.problems, []);
});
