// The market operator (organiser): its markets, admitting and removing
// sellers, CSV import in batches with a progress bar and the per-row errors,
// creating a listing with photos and publishing it, and the markets' orders.
import { call, svc, uploadPhoto, requestId, photoUrl } from '../api.js';
import { session, subjectName } from '../session.js';
import { csvBatches } from '../csv.js';
import { bytesToBase64 } from '../ledger.js';
import {
  h, render, act, field, select, textarea, checkbox, values, keepDraft, clearDraft, table, link, yuan,
  time, label, CATEGORY, LISTING_STATE, ORDER_STATE, errorBox,
} from '../ui.js';
import { GRADES } from './public.js';

const KINDS = [['FLEA_MARKET', '跳蚤市场'], ['TRADING_ZONE', '交易区'], ['ONLINE_PLATFORM', '网络平台']];
const BATCH_ROWS = 20;

export async function marketsPage(main) {
  const me = session.who.subject;
  const list = h('div', { id: 'markets-list' });
  const load = async () => {
    const r = await call(svc.market, 'ListMarkets', { filter: `operator="${me}"`, pageSize: 100 });
    const markets = r.markets || [];
    render(list, markets.length
      ? table(['市场', '名称', '地区', '卖家数'], markets.map((m) => [link(m.name, `org/market/${m.name}`),
        m.displayName, m.regionCode, (m.sellers || []).length]))
      : h('p', { class: 'muted' }, '还没有市场。'));
  };
  const errors = h('div');
  const form = h('form', { class: 'grid card', id: 'market-form' }, h('h2', { class: 'wide' }, '新建市场'),
    field('市场编号（小写字母、数字、-）', 'marketId', { id: 'market-id', required: true }),
    field('名称', 'displayName', { id: 'market-name', required: true }),
    select('类型', 'kind', KINDS, { id: 'market-kind' }),
    field('地区代码（6 位）', 'regionCode', { id: 'market-region', inputmode: 'numeric', required: true }),
    field('地址', 'address', { id: 'market-address', wide: true }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'market-submit' }, '创建')),
    h('div', { class: 'wide' }, errors));
  keepDraft(form, 'market');
  const rid = requestId();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      const v = values(form);
      const m = await call(svc.market, 'CreateMarket', {
        marketId: v.marketId, requestId: rid,
        market: { kind: v.kind, displayName: v.displayName, regionCode: v.regionCode, address: v.address },
      });
      clearDraft('market');
      location.hash = `#/org/market/${m.name}`;
    });
  });
  render(main, h('h1', {}, '我的市场'), list, form);
  await load();
}

function sellersCard(market, reload) {
  const errors = h('div');
  const form = h('form', { class: 'grid', id: 'seller-form' },
    field('卖家账号（如 subjects/seller-li）', 'seller', { id: 'seller-subject', required: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'seller-add' }, '准入')),
    h('div', { class: 'wide' }, errors));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      await call(svc.market, 'AddSeller', { market: market.name, seller: subjectName(form.seller.value),
                                           etag: market.etag, requestId: requestId() });
      await reload();
    });
  });
  const rows = (market.sellers || []).map((s) => [s, h('button', { type: 'button', class: 'secondary',
    dataset: { seller: s }, onclick: (e) => act(e.currentTarget, errors, async () => {
      if (!window.confirm(`确定移除卖家 ${s}？其已有商品和订单不受影响。`)) return;
      await call(svc.market, 'RemoveSeller', { market: market.name, seller: s, etag: market.etag,
                                                requestId: requestId() });
      await reload();
    }) }, '移除')]);
  return h('div', { class: 'card', id: 'sellers' }, h('h2', {}, '卖家'),
    rows.length ? table(['卖家', ''], rows) : h('p', { class: 'muted' }, '尚无卖家。'), form);
}

// CSV import in batches of BATCH_ROWS rows: a progress bar, a running count,
// and every failing row with its row number in the whole file and its fields.
function importCard(market, reload) {
  const errors = h('div');
  const progress = h('progress', { id: 'import-progress', max: 1, value: 0 });
  const status = h('p', { id: 'import-status', class: 'muted' });
  const rowErrors = h('div', { id: 'import-errors' });
  const form = h('form', { class: 'grid', id: 'import-form' },
    h('label', { class: 'wide' }, '选择 CSV 文件', h('input', { type: 'file', name: 'file', id: 'import-file', accept: '.csv,text/csv' })),
    textarea('或粘贴 CSV 内容（首行为列名）', 'csv', { id: 'import-csv', rows: 6 }),
    checkbox('导入后立即上架', 'publish', { id: 'import-publish' }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'import-submit' }, '导入')),
    h('div', { class: 'wide' }, progress, status, rowErrors, errors));
  keepDraft(form, `import.${market.name}`);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      const file = form.file.files[0];
      const text = file ? await file.text() : form.csv.value;
      const { rowCount, batches } = csvBatches(text, BATCH_ROWS);
      if (!rowCount) throw new Error('CSV 没有数据行');
      progress.max = rowCount;
      progress.value = 0;
      rowErrors.replaceChildren();
      let created = 0;
      const failed = [];
      for (const batch of batches) {
        if (!batch.rid) batch.rid = requestId();  // a retried batch is not imported twice
        const r = await call(svc.listing, 'ImportListings', {
          parent: market.name, csvData: bytesToBase64(new TextEncoder().encode(batch.text)),
          publish: form.publish.checked, requestId: batch.rid,
        });
        created += r.createdCount || 0;
        for (const row of r.results || []) {
          if ((row.violations || []).length) failed.push({ ...row, row: batch.firstRow + row.row - 1 });
        }
        progress.value = Math.min(rowCount, batch.firstRow - 1 + batch.rows);
        status.textContent = `已处理 ${progress.value} / ${rowCount} 行：成功 ${created} 行，失败 ${failed.length} 行`;
        render(rowErrors, failed.length ? table(['行号', '字段', '问题'], failed.flatMap((f) =>
          f.violations.map((v) => [h('span', { class: 'bad' }, `第 ${f.row} 行`), v.field, v.description]))) : null);
      }
      if (!failed.length) clearDraft(`import.${market.name}`);
      await reload();
    });
  });
  return h('div', { class: 'card', id: 'import' }, h('h2', {}, 'CSV 批量导入'),
    h('p', { class: 'muted' }, '列：seller,category,title,description,price.amount_fen,declared_condition.level,…（与 marketctl listing import 相同）'),
    form);
}

function createListingCard(market, reload) {
  const errors = h('div');
  const form = h('form', { class: 'grid', id: 'listing-form' },
    field('卖家账号', 'seller', { id: 'listing-seller', required: true }),
    select('类别', 'category', Object.entries(CATEGORY), { id: 'listing-category' }),
    field('标题', 'title', { id: 'listing-title', required: true, wide: true }),
    textarea('描述', 'description', { id: 'listing-description' }),
    field('价格（元）', 'price', { id: 'listing-price', inputmode: 'decimal', required: true }),
    select('自述成色', 'grade', GRADES.map((g) => [g, g]), { id: 'listing-grade' }),
    field('品牌', 'brand', { id: 'listing-brand' }),
    field('型号', 'model', { id: 'listing-model' }),
    field('序列号 / IMEI / VIN', 'identifier', { id: 'listing-identifier' }),
    textarea('已知瑕疵（每行一条）', 'defects', { id: 'listing-defects', rows: 2 }),
    h('label', { class: 'wide' }, '照片（JPEG、PNG 或 WebP，每张不超过 10 MiB）',
      h('input', { type: 'file', name: 'photos', id: 'listing-photos', multiple: true, accept: 'image/jpeg,image/png,image/webp' })),
    checkbox('创建后立即上架', 'publish', { id: 'listing-publish', checked: true }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'listing-submit' }, '创建商品')),
    h('div', { class: 'wide', id: 'listing-progress' }), h('div', { class: 'wide' }, errors));
  keepDraft(form, `listing.${market.name}`);
  // One listing per filled form, even when the submit is retried halfway.
  let state = { rid: requestId(), listing: null, uploaded: new Set() };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button[type=submit]'), errors, async () => {
      const v = values(form);
      const fen = Math.round(Number(v.price) * 100);
      if (!/^\d+(\.\d{1,2})?$/.test(v.price)) throw new Error('价格须为金额（元，最多两位小数）');
      const details = { brand: v.brand, model: v.model };
      const detailKey = { PHONE: 'phone', APPLIANCE: 'appliance', FURNITURE: 'furniture', VEHICLE: 'vehicle' }[v.category];
      if (v.category === 'PHONE') details.imei = v.identifier;
      else if (v.category === 'VEHICLE') { details.vin = v.identifier; details.make = v.brand; delete details.brand; }
      else details.serialNumber = v.identifier;
      const progressEl = form.querySelector('#listing-progress');
      if (!state.listing) {
        state.listing = await call(svc.listing, 'CreateListing', {
          parent: market.name, requestId: state.rid,
          listing: { seller: subjectName(v.seller), category: v.category, title: v.title, description: v.description,
                     price: { amountFen: String(fen), currency: 'CNY' },
                     declaredCondition: { scheme: 'general-condition-v1', version: 1, level: v.grade },
                     disclosedDefects: v.defects.split('\n').map((d) => d.trim()).filter(Boolean),
                     [detailKey]: details },
        });
      }
      const files = Array.from(form.photos.files);
      for (const [i, file] of files.entries()) {
        if (state.uploaded.has(i)) continue;
        progressEl.textContent = `正在上传照片 ${i + 1} / ${files.length}…`;
        await uploadPhoto(file, state.listing.name);
        state.uploaded.add(i);
      }
      let l = await call(svc.listing, 'GetListing', { name: state.listing.name });
      if (v.publish && l.state === 'DRAFT') {
        l = await call(svc.listing, 'PublishListing', { name: l.name, etag: l.etag, requestId: requestId() });
      }
      progressEl.textContent = `已创建 ${l.name}（${label(LISTING_STATE, l.state)}，${(l.photos || []).length} 张照片）`;
      clearDraft(`listing.${market.name}`);
      form.reset();
      state = { rid: requestId(), listing: null, uploaded: new Set() };
      await reload();
    });
  });
  return h('div', { class: 'card', id: 'create-listing' }, h('h2', {}, '新建商品'), form);
}

async function listingsCard(market) {
  const r = await call(svc.listing, 'SearchListings', { parent: market.name, pageSize: 100 });
  const drafts = await call(svc.listing, 'SearchListings', { parent: market.name, filter: 'state=DRAFT', pageSize: 100 })
    .catch(() => ({ listings: [] }));
  const all = [...(drafts.listings || []), ...(r.listings || [])];
  const errors = h('div');
  return h('div', { class: 'card', id: 'market-listings' }, h('h2', {}, `商品（${all.length}）`), errors,
    table(['照片', '标题', '价格', '卖家', '状态', ''], all.map((l) => [
      (l.photos || []).length ? h('img', { class: 'thumb', src: photoUrl(l, 0), alt: '' }) : '',
      link(l.title, `listing/${l.name}`), yuan(l.price), l.seller, label(LISTING_STATE, l.state),
      l.state === 'DRAFT' ? h('button', { type: 'button', class: 'secondary', onclick: (e) => act(e.currentTarget, errors, async () => {
        await call(svc.listing, 'PublishListing', { name: l.name, etag: l.etag, requestId: requestId() });
        e.target.replaceWith('已上架');
      }) }, '上架') : ''])));
}

export async function marketPage(main, name) {
  const draw = async () => {
    const market = await call(svc.market, 'GetMarket', { name });
    const listings = h('div');
    // Imports and new listings redraw only the listings, so their results stay.
    const refreshListings = async () => {
      render(listings, await listingsCard(market).catch((err) => h('div', { class: 'card' }, errorBox(err))));
    };
    await refreshListings();
    render(main, h('h1', {}, market.displayName),
      h('p', { class: 'muted' }, `${market.name} · 地区 ${market.regionCode} · ${market.address || ''}`),
      sellersCard(market, draw), importCard(market, refreshListings), createListingCard(market, refreshListings),
      listings);
  };
  await draw();
}

export function ordersTable(orders, actions = () => '') {
  return table(['订单', '商品', '价格', '买家', '卖家', '状态', '下单时间', ''], orders.map((o) => [
    h('span', { class: 'mono' }, o.name), link(o.listing.split('/').pop(), `listing/${o.listing}`), yuan(o.price),
    o.buyer, o.seller, label(ORDER_STATE, o.state), time(o.placeTime), actions(o)]));
}

export async function marketOrdersPage(main) {
  const r = await call(svc.order, 'ListOrders', { parent: 'markets/-', pageSize: 200 });
  render(main, h('h1', {}, '市场订单'),
    (r.orders || []).length ? ordersTable(r.orders) : h('p', { class: 'muted' }, '暂无订单。'));
}
