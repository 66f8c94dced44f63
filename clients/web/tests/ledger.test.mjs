// The ledger verified in the browser: with the right key pinned the page shows
// the checkpoint and the newest records verified; with another key pinned, or
// after the ledger's stored hashes are tampered with in credit.db, it shows
// NOT verified.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Marketd, browser, people, marketWithListing, screenshot, waitFor, PASSWORD } from './browser.mjs';

let server;
let b;
let ledgerKey;

before(async () => {
  server = new Marketd();
  await server.start();
  await people(server);
  const listing = await marketWithListing(server);
  const buyer = await server.login('subjects/buyer-zhao', PASSWORD);
  const l = await server.api('listing.v1.ListingService', 'GetListing', { name: listing }, buyer);
  let o = await server.api('listing.v1.OrderService', 'PlaceOrder', { listing, listingEtag: l.etag, defectsAcknowledged: true }, buyer);
  o = await server.api('listing.v1.OrderService', 'ConfirmDelivery', { name: o.name, etag: o.etag }, buyer);
  await server.api('listing.v1.OrderService', 'CompleteOrder', { name: o.name, etag: o.etag }, buyer);
  // TRADE_COMPLETED for buyer and seller reach the ledger through the outbox.
  let checkpoint;
  assert.ok(await waitFor(async () => {
    checkpoint = await server.api('credit.v1.LedgerService', 'GetCheckpoint', {});
    return Number(checkpoint.treeSize) >= 2;
  }, 20000), 'two records in the ledger');
  ledgerKey = Buffer.from(checkpoint.publicKey, 'base64').toString('hex');
  b = await browser();
});
after(async () => {
  if (b) await b.close();
  if (server) await server.destroy();
});

async function pinAndVerify(page, key) {
  await page.goto(`${server.origin}/#/ledger`);
  await page.waitForSelector('#ledger-verdict');
  await page.fill('#ledger-key', key);
  await page.click('#ledger-pin');
  await page.waitForFunction((k) => document.querySelector('#ledger-pinned').textContent.includes(k), key);
  await page.click('#ledger-verify');
  await page.waitForSelector('#ledger-verdict');
  return page.getAttribute('#ledger-verdict', 'data-verified');
}

test('without a pinned key the page verifies nothing', async () => {
  const { page } = b;
  await page.goto(`${server.origin}/#/ledger`);
  await page.waitForSelector('#ledger-verdict');
  assert.equal(await page.getAttribute('#ledger-verdict', 'data-verified'), 'false');
});

test('with the ledger\'s key pinned the checkpoint and each shown record are verified', async () => {
  const { page } = b;
  assert.equal(await pinAndVerify(page, ledgerKey), 'true', await page.textContent('#ledger-result'));
  const result = await page.textContent('#ledger-result');
  assert.match(result, /subjects\/seller-li/);
  assert.match(result, /subjects\/buyer-zhao/);
  assert.match(result, /TRADE_COMPLETED/);
  await screenshot(page, 'ledger-verified');
});

test('the pinned key survives a reload (localStorage) and still verifies', async () => {
  const { page } = b;
  await page.reload();
  await page.waitForSelector('#ledger-verdict');
  assert.equal(await page.getAttribute('#ledger-verdict', 'data-verified'), 'true');
});

test('a checkpoint signed by another key than the pinned one is NOT verified', async () => {
  const { page } = b;
  const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  assert.equal(await pinAndVerify(page, other.toString('hex')), 'false');
  assert.match(await page.textContent('#ledger-verdict'), /NOT verified/);
  assert.match(await page.textContent('#ledger-verdict'), /固定的公钥/);
});

test('after the stored hashes are tampered with in credit.db the page shows NOT verified', async () => {
  const { page } = b;
  await server.stop();
  server.sql('credit.db', "UPDATE nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 0");
  await server.start();
  assert.equal(await pinAndVerify(page, ledgerKey), 'false');
  assert.match(await page.textContent('#ledger-verdict'), /NOT verified/);
  await screenshot(page, 'ledger-not-verified');
});

test('no page error and no Content-Security-Policy violation', () => {
  assert.deepEqual(b.problems, []);
});
