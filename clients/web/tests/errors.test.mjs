// Errors shown in the page without losing what was typed: an expired token
// (the login dialog opens over the form and the action continues after
// logging in again) and a server restart (a readable message and a retry).
// A bad CSV row is in organizer.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Marketd, browser, people, loginInPage, screenshot, PASSWORD } from './browser.mjs';

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

async function fillMarketForm(page, id, name) {
  await page.fill('#market-id', id);
  await page.fill('#market-name', name);
  await page.fill('#market-region', '350102');
  await page.fill('#market-address', '西街 9 号');
}

async function assertMarketFormKept(page, id, name) {
  assert.equal(await page.inputValue('#market-id'), id);
  assert.equal(await page.inputValue('#market-name'), name);
  assert.equal(await page.inputValue('#market-region'), '350102');
  assert.equal(await page.inputValue('#market-address'), '西街 9 号');
}

test('an expired token opens the login dialog over the form; the action completes after logging in', async () => {
  const { page } = b;
  await loginInPage(page, server.origin, 'east-op', PASSWORD);
  await page.waitForSelector('#market-form');
  await fillMarketForm(page, 'south-flea', '南城跳蚤市场');
  server.shiftClock(2 * 3600);  // tokens live one hour
  await page.click('#market-submit');
  await page.waitForSelector('#relogin-dialog');
  assert.match(await page.textContent('#relogin-dialog'), /登录已过期/);
  await assertMarketFormKept(page, 'south-flea', '南城跳蚤市场');
  assert.equal(await page.inputValue('#relogin-subject'), 'subjects/east-op');
  await screenshot(page, 'error-expired-token');
  await page.fill('#relogin-secret', PASSWORD);
  await page.click('#relogin-submit');
  await page.waitForSelector('#sellers');
  assert.match(await page.textContent('h1'), /南城跳蚤市场/);
});

test('a server restart shows a readable message, keeps the form, and the retry succeeds', async () => {
  const { page } = b;
  await page.goto(`${server.origin}/#/org/markets`);
  await page.waitForSelector('#market-form');
  await fillMarketForm(page, 'west-flea', '西城跳蚤市场');
  await server.stop();
  await page.click('#market-submit');
  await page.waitForSelector('#banner:not([hidden])');
  assert.match(await page.textContent('#banner'), /无法连接服务器/);
  assert.match(await page.textContent('#market-form .error-box'), /服务器暂时不可用/);
  await assertMarketFormKept(page, 'west-flea', '西城跳蚤市场');
  await screenshot(page, 'error-server-restart');
  await server.start();
  await page.click('#banner button');
  await page.waitForSelector('#sellers');
  assert.match(await page.textContent('h1'), /西城跳蚤市场/);
  assert.equal(await page.isHidden('#banner'), true);
});

test('a draft survives reloading the page', async () => {
  const { page } = b;
  await page.goto(`${server.origin}/#/org/markets`);
  await page.waitForSelector('#market-form');
  await fillMarketForm(page, 'north-flea', '北城跳蚤市场');
  await page.reload();
  await page.waitForSelector('#market-form');
  await assertMarketFormKept(page, 'north-flea', '北城跳蚤市场');
});

test('no page error and no Content-Security-Policy violation', () => {
  assert.deepEqual(b.problems, []);
});
