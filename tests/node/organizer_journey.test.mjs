// The flea-market organizer's journey (issue 7, item 3) driven by an outside
// client that shares no code with ours: @grpc/grpc-js and @grpc/proto-loader
// load the repo's .proto files at run time against a freshly started marketd.
// The bootstrap supervisor creates the operator, two sellers and a buyer; the
// operator creates a market, admits the sellers and imports 50 listings from
// CSV; the buyer searches in Chinese, orders (acknowledging the disclosed
// defects), takes delivery and completes; the trade reaches both parties'
// credit records. Errors are checked through the google.rpc.Status in
// grpc-status-details-bin (BadRequest field names, ErrorInfo reasons).
//
// The steps are sequential tests sharing state; a failing step fails the rest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  grpc, loadProtos, startMarketd, waitForReady, waitFor, call, callError, bearer, badFields,
  errorReason,
} from './helpers.mjs';

const MARKET = 'markets/east-flea';
const SELLERS = ['subjects/seller-li', 'subjects/seller-wang'];
const ROWS = 50;
// Rows 5, 10, …, 50 are refrigerators (odd rows seller-li, even rows
// seller-wang) disclosing one defect; the others are rice cookers.
const isFridge = (i) => i % 5 === 0;
const FRIDGES = Array.from({ length: ROWS }, (_, k) => k + 1).filter(isFridge).length;

function csv() {
  const lines = ['seller,category,title,description,price.amount_fen,declared_condition.level,'
                 + 'appliance.brand,appliance.model,appliance.serial_number,disclosed_defects'];
  for (let i = 1; i <= ROWS; i++) {
    const seller = SELLERS[(i + 1) % 2];
    const title = isFridge(i) ? `海尔双门冰箱 ${i}` : `美的电饭煲 ${i}`;
    lines.push([seller, 'APPLIANCE', title, '"九成新, 功能正常"', 10000 + i * 100, '9成新',
                isFridge(i) ? 'Haier' : 'Midea', `M-${i}`, `SN-${i}`,
                isFridge(i) ? '门封条轻微老化' : ''].join(','));
  }
  return `${lines.join('\n')}\n`;
}

let server, identity, markets, listings, orders, credit;
const token = {};   // subject id -> access token
const state = {};   // shared between the steps

before(async () => {
  server = await startMarketd();
  const pkg = loadProtos(['market/identity/v1/identity.proto', 'market/listing/v1/listing.proto',
                          'market/credit/v1/credit.proto']);
  const creds = grpc.credentials.createInsecure();
  identity = new pkg.market.identity.v1.IdentityService(server.address, creds);
  markets = new pkg.market.listing.v1.MarketService(server.address, creds);
  listings = new pkg.market.listing.v1.ListingService(server.address, creds);
  orders = new pkg.market.listing.v1.OrderService(server.address, creds);
  credit = new pkg.market.credit.v1.CreditService(server.address, creds);
  await waitForReady(identity);
});

after(async () => {
  for (const c of [identity, markets, listings, orders, credit]) if (c) c.close();
  if (server) await server.stop();
});

test('the bootstrap supervisor logs in and changes its password first', async () => {
  const creds = server.bootstrap();
  const login = await call(identity, 'Login', { subject: creds.subject, password: creds.password });
  assert.equal(login.password_change_required, true);
  const changed = await call(identity, 'ChangePassword', {
    name: creds.subject, old_password: creds.password, new_password: 'supervisor-password-1',
  }, bearer(login.access_token));
  token.supervisor = changed.access_token;
  const who = await call(identity, 'WhoAmI', {}, bearer(token.supervisor));
  assert.deepEqual(who.roles, ['SUPERVISOR']);
});

test('the supervisor creates the operator, two sellers and a buyer; each logs in', async () => {
  const subjects = [
    ['east-op', { kind: 'ORGANIZATION', roles: ['OPERATOR'], display_name: '东城跳蚤市场管理处',
                  credit_code: '91350100M000100Y43' }],
    ['seller-li', { kind: 'PERSON', roles: ['SELLER'], display_name: '李四',
                    id_number: '11010519491231002X' }],
    ['seller-wang', { kind: 'PERSON', roles: ['SELLER'], display_name: '王五',
                      id_number: '440524188001010014' }],
    ['buyer-zhao', { kind: 'PERSON', roles: ['BUYER'], display_name: '赵六' }],
  ];
  for (const [id, subject] of subjects) {
    const created = await call(identity, 'CreateSubject',
                               { subject, subject_id: id, password: `password-${id}` },
                               bearer(token.supervisor));
    assert.equal(created.name, `subjects/${id}`);
    assert.equal(created.state, 'ACTIVE');
    assert.deepEqual(created.roles, subject.roles);
    assert.equal(created.id_number, '', 'the ID number is input only');
    if (subject.id_number) assert.match(created.id_number_masked, /^\d{4}\*+\d{3}[\dX]$/);
    const login = await call(identity, 'Login',
                             { subject: `subjects/${id}`, password: `password-${id}` });
    token[id] = login.access_token;
    const who = await call(identity, 'WhoAmI', {}, bearer(token[id]));
    assert.equal(who.subject, `subjects/${id}`);
    assert.deepEqual(who.roles, subject.roles);
  }
});

test('a bad ID number checksum names subject.id_number', async () => {
  const err = await callError(identity, 'CreateSubject', {
    subject: { kind: 'PERSON', roles: ['SELLER'], display_name: '错号', id_number: '110105194912310021' },
    subject_id: 'bad-id', password: 'password-bad-id',
  }, bearer(token.supervisor));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
  assert.ok(badFields(err).includes('subject.id_number'), JSON.stringify(badFields(err)));
});

test('the operator creates a market and admits both sellers', async () => {
  const market = await call(markets, 'CreateMarket', {
    market: { kind: 'FLEA_MARKET', display_name: '东城社区跳蚤市场', region_code: '350102',
              address: '鼓楼区东街 1 号' },
    market_id: 'east-flea',
  }, bearer(token['east-op']));
  assert.equal(market.name, MARKET);
  assert.equal(market.operator, 'subjects/east-op');
  let last;
  for (const seller of SELLERS) {
    last = await call(markets, 'AddSeller', { market: MARKET, seller }, bearer(token['east-op']));
  }
  assert.deepEqual([...last.sellers].sort(), SELLERS);
  // Admitting a seller twice is ALREADY_EXISTS.
  const again = await callError(markets, 'AddSeller', { market: MARKET, seller: SELLERS[0] },
                                bearer(token['east-op']));
  assert.equal(again.code, grpc.status.ALREADY_EXISTS, again.details);
});

test('the operator imports the CSV and publishes every row', async () => {
  const imported = await call(listings, 'ImportListings', {
    parent: MARKET, csv_data: Buffer.from(csv(), 'utf8'), publish: true,
  }, bearer(token['east-op']));
  const failed = imported.results.filter((r) => r.violations.length > 0);
  assert.deepEqual(failed, [], 'rows with violations');
  assert.equal(imported.created_count, ROWS);
  assert.equal(imported.failed_count, 0);
  assert.equal(imported.committed, true);
  assert.equal(imported.results.length, ROWS);
  assert.ok(imported.results.every((r, k) => r.row === k + 1 && r.listing.startsWith(`${MARKET}/listings/`)));
  // Row 5 (seller-li) as the public sees it.
  const row5 = await call(listings, 'GetListing', { name: imported.results[4].listing },
                          bearer(token['buyer-zhao']));
  assert.equal(row5.state, 'PUBLISHED');
  assert.equal(row5.seller, SELLERS[0]);
  assert.equal(row5.created_by, 'subjects/east-op');
  assert.equal(row5.title, '海尔双门冰箱 5');
  assert.equal(row5.description, '九成新, 功能正常');
  assert.equal(row5.price.amount_fen, '10500');
  assert.equal(row5.details, 'appliance');
  assert.equal(row5.appliance.serial_number, 'SN-5');
  assert.equal(row5.declared_condition.level, '9成新');
  assert.deepEqual(row5.disclosed_defects, ['门封条轻微老化']);
});

test('the buyer searches in Chinese across pages', async () => {
  const found = [];
  let page_token = '';
  let pages = 0;
  do {
    const page = await call(listings, 'SearchListings',
                            { parent: 'markets/-', query: '冰箱', page_size: 4, page_token },
                            bearer(token['buyer-zhao']));
    found.push(...page.listings);
    page_token = page.next_page_token;
    assert.ok(++pages <= FRIDGES, 'the page tokens do not end');
  } while (page_token);
  assert.equal(found.length, FRIDGES);
  assert.equal(new Set(found.map((l) => l.name)).size, FRIDGES, 'a listing came twice');
  assert.ok(found.every((l) => l.title.includes('冰箱') && l.state === 'PUBLISHED'));
  // Narrowed to one seller, cheapest first.
  const li = await call(listings, 'SearchListings', {
    parent: MARKET, query: '冰箱', filter: `seller="${SELLERS[0]}"`, order_by: 'price',
  }, bearer(token['buyer-zhao']));
  assert.equal(li.listings.length, FRIDGES / 2);
  assert.ok(li.listings.every((l) => l.seller === SELLERS[0]));
  const prices = li.listings.map((l) => Number(l.price.amount_fen));
  assert.deepEqual(prices, [...prices].sort((a, b) => a - b));
  state.listing = li.listings[0];
});

test('an unknown filter term names `filter` in google.rpc.BadRequest', async () => {
  const err = await callError(listings, 'SearchListings',
                              { parent: 'markets/-', filter: 'colour=red' },
                              bearer(token['buyer-zhao']));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
  assert.deepEqual(badFields(err), ['filter']);
});

test('a phone listing with a bad IMEI names listing.phone.imei', async () => {
  const err = await callError(listings, 'CreateListing', {
    parent: MARKET,
    listing: {
      category: 'PHONE', title: '华为 Mate 60 Pro', price: { amount_fen: 300000 },
      declared_condition: { scheme: 'general-condition-v1', version: 1, level: '9成新' },
      phone: { imei: '490154203237519', brand: 'Huawei', model: 'Mate 60 Pro', data_wiped: true },
    },
  }, bearer(token['seller-li']));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
  assert.deepEqual(badFields(err), ['listing.phone.imei']);
});

test('ordering without acknowledging the disclosed defects is refused', async () => {
  const err = await callError(orders, 'PlaceOrder', { listing: state.listing.name },
                              bearer(token['buyer-zhao']));
  assert.equal(err.code, grpc.status.FAILED_PRECONDITION, err.details);
  assert.equal(errorReason(err), 'DEFECTS_NOT_ACKNOWLEDGED');
});

test('the buyer orders, takes delivery and completes', async () => {
  const buyer = bearer(token['buyer-zhao']);
  const placed = await call(orders, 'PlaceOrder', {
    listing: state.listing.name, listing_etag: state.listing.etag, defects_acknowledged: true,
  }, buyer);
  assert.equal(placed.state, 'PLACED');
  assert.match(placed.name, /^markets\/east-flea\/orders\/[a-z0-9-]+$/);
  assert.equal(placed.buyer, 'subjects/buyer-zhao');
  assert.equal(placed.seller, SELLERS[0]);
  assert.equal(placed.price.amount_fen, state.listing.price.amount_fen);
  assert.equal(placed.defects_acknowledged, true);
  assert.deepEqual(placed.disclosed_defects, ['门封条轻微老化']);
  state.order = placed.name;
  assert.equal((await call(listings, 'GetListing', { name: state.listing.name }, buyer)).state,
               'RESERVED');
  // A reserved listing leaves the search results.
  const after = await call(listings, 'SearchListings', { parent: MARKET, query: '冰箱' }, buyer);
  assert.equal(after.listings.length, FRIDGES - 1);

  const delivered = await call(orders, 'ConfirmDelivery', { name: state.order, etag: placed.etag }, buyer);
  assert.equal(delivered.state, 'DELIVERED');
  assert.ok(delivered.delivery_time, 'no delivery_time');
  assert.equal((await call(listings, 'GetListing', { name: state.listing.name }, buyer)).state, 'SOLD');
  const completed = await call(orders, 'CompleteOrder', { name: state.order }, buyer);
  assert.equal(completed.state, 'COMPLETED');
  // The seller sees the same order.
  const seen = await call(orders, 'GetOrder', { name: state.order }, bearer(token['seller-li']));
  assert.equal(seen.state, 'COMPLETED');
});

test('the trade reaches both parties\' credit records', async () => {
  for (const [id, counterparty, role] of [['buyer-zhao', SELLERS[0], 'BUYER'],
                                          ['seller-li', 'subjects/buyer-zhao', 'SELLER']]) {
    // The relay polls every 200 ms; 60 s leaves room for a busy machine and
    // a retried delivery (backoff from 1 s) without hanging the run.
    let record = null;
    let last = null;
    const found = await waitFor(async () => {
      last = await call(credit, 'ListRecords', { parent: 'ledgers/main', filter: 'type=TRADE_COMPLETED' },
                        bearer(token[id]));
      record = last.records.find((r) => r.reference === state.order) ?? null;
      return record !== null;
    }, 60000, 200);
    assert.ok(found, `${id}: no TRADE_COMPLETED record for ${state.order}: ${JSON.stringify(last)}`);
    assert.equal(record.subject, `subjects/${id}`);
    assert.equal(record.subject_role, role);
    assert.equal(record.type, 'TRADE_COMPLETED');
    assert.equal(record.tier, 'POSITIVE');
    assert.equal(record.counterparty, counterparty);
    assert.match(record.name, /^ledgers\/main\/records\/\d+$/);
  }
  // A buyer may not read someone else's records.
  const err = await callError(credit, 'ListRecords', {
    parent: 'ledgers/main', filter: `subject="${SELLERS[0]}"`, purpose: 'curious',
  }, bearer(token['buyer-zhao']));
  assert.equal(err.code, grpc.status.PERMISSION_DENIED, err.details);
});
