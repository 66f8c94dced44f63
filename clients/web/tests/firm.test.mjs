// The appraisal firm's journey in a real browser: the firm (accredited for
// appliances over the JSON API) registers its Ed25519 public key and
// files a report on the seller's fridge, signed in the page with WebCrypto;
// the bytes are exactly protobuf's own serialization; the report is in its
// list and verifies, with a link to the certificate's verify URL; the seller
// disputes it from the verify page, the firm sees the dispute, and the
// supervisor upholds it in the page: the report is OVERTURNED.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Marketd, browser, people, marketWithListing, loginInPage, source, PASSWORD } from './browser.mjs';

let server;
let b;
let listing;
let supervisorSubject;
let report;  // appraisals/…
let dispute;  // appraisals/…/disputes/…
const SUP_PASSWORD = 'supervisor-password-1';
const firmKey = generateKeyPairSync('ed25519');
const pem = (k, type) => k.export({ type, format: 'pem' });

before(async () => {
  server = new Marketd();
  await server.start();
  supervisorSubject = server.bootstrap().subject;
  const sup = await people(server);
  listing = await marketWithListing(server);
  await server.createSubject(sup, 'minjian', { kind: 'ORGANIZATION', roles: ['APPRAISAL_FIRM'],
    displayName: '闽鉴二手商品鉴定有限公司', creditCode: '91350102MA0000050N' }, PASSWORD);
  await server.createSubject(sup, 'appraiser-chen', { kind: 'PERSON', roles: ['APPRAISER'], displayName: '陈鉴定',
    idNumber: '110101199003070038', affiliation: 'subjects/minjian' }, PASSWORD);
  await server.api('appraisal.v1.AppraisalService', 'GrantAccreditation', { parent: 'firms/minjian',
    accreditationId: 'minjian-2026', accreditation: { categories: ['APPLIANCE'], validFrom: '2026-01-01T00:00:00Z',
      validUntil: '2036-01-01T00:00:00Z', certificateNumber: '闽鉴字 2026-001' } }, sup);
  b = await browser();
});
after(async () => {
  if (b) await b.close();
  if (server) await server.destroy();
});

function reportJson(reportNumber) {
  const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return JSON.stringify({
    report_number: reportNumber, firm: 'firms/minjian', firm_credit_code: '91350102MA0000050N',
    appraiser: 'subjects/appraiser-chen', appraiser_qualification_number: 'ZG-2026-0042', listing,
    category: 'APPLIANCE', identifiers: { brand: 'Haier', model: 'BCD-160', serial_number: 'SN-WEB-1' },
    inspection_items: [{ code: 'door.seal', result: 'DEFECT', defect_code: 'LH', degree: 1, note: '门封条老化' },
                       { code: 'compressor', result: 'NORMAL' }],
    grades: [{ scheme: 'general-condition-v1', version: 1, level: '9成新' }],
    disclosed_defects: ['门封条轻微老化'],
    appraised_value_min: { amount_fen: 70000, currency: 'CNY' },
    appraised_value_max: { amount_fen: '85000', currency: 'CNY' },
    inspected_time: iso(Date.now() - 3600 * 1000), valid_until: iso(Date.now() + 90 * 86400 * 1000),
  }, null, 2);
}

async function fillReport(page, reportNumber, privateKey) {
  await page.goto(`${server.origin}/#/firm/file`);
  await page.waitForSelector('#report-form');
  await page.selectOption('#report-key', 'firms/minjian/keys/minjian-2026');
  await page.fill('#report-id', 'fridge-report');
  await page.fill('#report-json', reportJson(reportNumber));
  await page.fill('#report-private-key', privateKey);
}

test('the firm sees its accreditation and registers its public key in the page', async () => {
  const { page } = b;
  await loginInPage(page, server.origin, 'minjian', PASSWORD);
  assert.match(await page.textContent('nav'), /鉴定机构/);
  await page.goto(`${server.origin}/#/firm/reports`);
  await page.waitForSelector('#firm-accreditations');
  assert.match(await page.textContent('#firm-accreditations'), /minjian-2026[\s\S]*家电[\s\S]*有效/);
  await page.fill('#key-id', 'minjian-2026');
  await page.fill('#key-pem', pem(firmKey.publicKey, 'spki'));
  await page.click('#key-submit');
  await page.waitForSelector('#firm-keys td');
  assert.match(await page.textContent('#firm-keys'), /firms\/minjian\/keys\/minjian-2026[\s\S]*启用/);
});

test('a private key (raw hex) that is not the chosen key\'s is refused before anything is sent', async () => {
  const { page } = b;
  const other = generateKeyPairSync('ed25519');
  const rawHex = other.privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(16).toString('hex');
  await fillReport(page, 'MJ-2026-A-0001', rawHex);
  await page.click('#report-submit');
  await page.waitForSelector('#report-form .error-box');
  assert.match(await page.textContent('#report-form .error-box'), /不匹配/);
  const r = await server.api('appraisal.v1.AppraisalService', 'ListAppraisals', { filter: 'firm="firms/minjian"' });
  assert.equal((r.appraisals || []).length, 0);
});

test('the firm files a report signed in the browser with its PKCS#8 key', async () => {
  const { page } = b;
  await fillReport(page, 'MJ-2026-A-0001', pem(firmKey.privateKey, 'pkcs8'));
  await page.click('#report-submit');
  await page.waitForSelector('#filed-name');
  assert.match(await page.textContent('#filed-name'), /appraisals\/fridge-report/);
  report = 'appraisals/fridge-report';
  const a = await server.api('appraisal.v1.AppraisalService', 'GetAppraisal', { name: report });
  assert.equal(a.state, 'FILED');
  assert.equal(a.item, 'items/APPLIANCE:HAIER~BCD-160~SN-WEB-1');
  assert.equal(a.content.grades[0].level, '9成新');
  assert.equal(a.content.appraisedValueMax.amountFen, '85000');
});

test('the signed bytes are exactly protobuf\'s serialization of the content (what marketctl signs)', async () => {
  const a = await server.api('appraisal.v1.AppraisalService', 'GetAppraisal', { name: report });
  const bytes = Buffer.from(a.signedContent, 'base64');
  const args = [`-I${join(source, 'proto')}`, '-I/usr/include', 'market/appraisal/v1/appraisal.proto'];
  const text = execFileSync('protoc', ['--decode=market.appraisal.v1.AppraisalContent', ...args],
                            { input: bytes, cwd: source });
  const reencoded = execFileSync('protoc', ['--encode=market.appraisal.v1.AppraisalContent', ...args],
                                 { input: text, cwd: source });
  assert.ok(Buffer.compare(bytes, reencoded) === 0, 'protoc re-serializes the decoded content to the same bytes');
  assert.match(text.toString(), /report_number: "MJ-2026-A-0001"/);
});

test('the report is in the firm\'s list and verifies, with the certificate\'s verify URL', async () => {
  const { page } = b;
  await page.goto(`${server.origin}/#/firm/reports`);
  await page.waitForSelector('#firm-reports table');
  assert.match(await page.textContent('#firm-reports'), /fridge-report[\s\S]*MJ-2026-A-0001[\s\S]*有效/);
  await page.click(`#firm-reports a[href="#/verify/${report}"]`);
  await page.waitForSelector('#verify-verdict');
  assert.match(await page.textContent('#verify-verdict'), /有效/);
  const href = await page.getAttribute('#verify-certificate-link', 'href');
  assert.match(href, /^\/verify\?report=appraisals%2Ffridge-report&sha256=[0-9a-f]{64}$/);
  const r = await fetch(`${server.origin}${href}`);
  assert.equal(r.status, 200);
  assert.match(await r.text(), /有效/);
});

test('the firm\'s appraiser sees its firm\'s reports (the firm is its affiliation)', async () => {
  const { page } = b;
  await page.click('#logout');
  await loginInPage(page, server.origin, 'appraiser-chen', PASSWORD);
  await page.goto(`${server.origin}/#/firm/reports`);
  await page.waitForSelector('#firm-reports table');
  assert.match(await page.textContent('main h1'), /firms\/minjian/);
  assert.match(await page.textContent('#firm-reports'), /fridge-report/);
  assert.equal(await page.$('#key-form'), null, 'only the firm registers keys');
});

test('the seller disputes the report from its verify page', async () => {
  const { page } = b;
  await page.click('#logout');
  await loginInPage(page, server.origin, 'seller-li', PASSWORD);
  await page.goto(`${server.origin}/#/verify/${report}`);
  await page.waitForSelector('#dispute-form');
  await page.fill('#dispute-reason', '门封条已更换，成色应为 95新');
  await page.click('#dispute-submit');
  await page.waitForSelector('#dispute-filed');
  dispute = (await page.textContent('#dispute-filed')).match(/appraisals\/fridge-report\/disputes\/[a-z0-9-]+/)[0];
  const a = await server.api('appraisal.v1.AppraisalService', 'GetAppraisal', { name: report });
  assert.equal(a.state, 'DISPUTED');
});

test('the firm sees the dispute about its report', async () => {
  const { page } = b;
  await page.click('#logout');
  await loginInPage(page, server.origin, 'minjian', PASSWORD);
  await page.goto(`${server.origin}/#/firm/reports`);
  await page.waitForSelector('#firm-disputes table');
  assert.match(await page.textContent('#firm-disputes'), /门封条已更换[\s\S]*待裁决/);
  assert.ok((await page.textContent('#firm-disputes')).includes(dispute));
  assert.match(await page.textContent('#firm-reports'), /争议中/);
});

test('the supervisor upholds the dispute in the page and the report is overturned', async () => {
  const { page } = b;
  await page.click('#logout');
  await loginInPage(page, server.origin, supervisorSubject, SUP_PASSWORD);
  assert.match(await page.textContent('nav'), /鉴定争议/);
  await page.goto(`${server.origin}/#/sup/disputes`);
  const card = page.locator('.dispute').first();
  await card.waitFor();
  assert.match(await card.textContent(), /门封条已更换/);
  await card.locator('select[name=outcome]').selectOption('UPHELD');
  await card.locator('input[name=reason]').fill('复检确认门封条为新更换');
  await card.locator('input[name=decision]').fill('市监鉴〔2026〕7号');
  await card.locator('button[type=submit]').click();
  await page.waitForSelector('#no-disputes');
  const v = await server.api('appraisal.v1.AppraisalService', 'VerifyAppraisal', { name: report });
  assert.ok(!v.valid);
  assert.equal(v.appraisalState, 'OVERTURNED');
  const d = await server.api('appraisal.v1.AppraisalService', 'GetDispute', { name: dispute },
                             await server.login(supervisorSubject, SUP_PASSWORD));
  assert.equal(d.state, 'UPHELD');
  assert.equal(d.decisionDocumentNumber, '市监鉴〔2026〕7号');
});

test('no page error and no Content-Security-Policy violation', () => {
  assert.deepEqual(b.problems, []);
});
