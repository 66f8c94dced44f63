// The statistics ledger (统计台账) for the SUPERVISOR (everything) and the
// OPERATOR (its own markets): one query of a figure family by period, group
// and filters, shown as a table, and "下载 CSV" / "下载 XLSX" for the same
// query (GET /stats/export/{family}.{csv|xlsx}: the server renders the file
// exactly as `marketctl stats … --format csv|xlsx` does).
import { call, download, svc } from '../api.js';
import { h, render, act, field, select, values, keepDraft, table, CATEGORY } from '../ui.js';

// [export name, RPC, page title]
const FAMILIES = [
  ['trade', 'QueryTrade', '交易统计'],
  ['claims', 'QueryAfterSales', '售后统计'],
  ['appraisals', 'QueryAppraisals', '鉴定统计'],
  ['entities', 'QueryEntities', '市场主体统计'],
  ['credit', 'QueryCredit', '信用统计'],
];
const PERIODS = [['MONTH', '月'], ['DAY', '日'], ['WEEK', '周'], ['QUARTER', '季度'], ['YEAR', '年'],
  ['CUSTOM', '自定义（起止日期）']];
const GROUPS = [['', '合计'], ['CATEGORY', '按类别'], ['MARKET', '按市场'], ['COUNTY', '按区县'],
  ['CITY', '按地市'], ['PROVINCE', '按省份'], ['SELLER', '按卖家'], ['FIRM', '按鉴定机构'],
  ['SUBJECT_ROLE', '按主体角色']];

// The trade row's figures in the order of the downloads' columns (amounts in 元).
const TRADE_COLUMNS = [
  ['ordersPlaced', '下单数'], ['ordersCompleted', '成交数'], ['ordersCancelled', '取消数'],
  ['swapsCompleted', '互换成交数'], ['grossFen', '成交额(元)', true], ['meanPriceFen', '均价(元)', true],
  ['medianPriceFen', '中位价(元)', true], ['listingsCreated', '新建挂牌数'], ['listingsPublished', '上架数'],
  ['listingsRemoved', '下架数'], ['medianDaysToSale', '售出天数中位数'], ['meanDaysToSale', '售出天数均值'],
];

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// The form's query as QueryFiguresRequest JSON and as the export's query string.
function query(v) {
  const req = { period: v.period, fromDate: v.from };
  const qs = new URLSearchParams({ period: v.period, from: v.from });
  if (v.period === 'CUSTOM' && v.to) { req.toDate = v.to; qs.set('to', v.to); }
  if (v.groupBy) { req.groupBy = v.groupBy; qs.set('group_by', v.groupBy); }
  const markets = v.market.split(/[,，\s]+/).filter(Boolean).map((m) => (m.startsWith('markets/') ? m : `markets/${m}`));
  if (markets.length) { req.markets = markets; qs.set('market', markets.join(',')); }
  if (v.region) { req.region = v.region; qs.set('region', v.region); }
  if (v.category) { req.category = v.category; qs.set('category', v.category); }
  return { req, qs: qs.toString() };
}

// The answer as [header, rows]: "*" for suppressed cells, as in the downloads.
function tableOf(family, resp) {
  const key = (r) => r.key || '合计';
  if (family === 'trade') {
    return [['分组', ...TRADE_COLUMNS.map(([, text]) => text)], (resp.rows || []).map((r) => [key(r),
      ...TRADE_COLUMNS.map(([name, , money]) => {
        if (r.suppressed) return '*';
        const n = Number(r[name] || 0);
        return money ? (n / 100).toFixed(2) : String(n);
      })])];
  }
  // The server's Chinese header of each column (the downloads' headers).
  const columns = resp.columns || [];
  const titles = columns.map((c, i) => (resp.columnTitles || [])[i] || c);
  return [['分组', ...titles], (resp.rows || []).map((r) => [key(r),
    ...columns.map((c, i) => (r.suppressed ? '*' : String(Number((r.values || [])[i] || 0))))])];
}

// Saves `blob` as `filename` through a temporary link (the token never goes
// into a URL).
function save({ blob, filename }) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export async function statsPage(main) {
  const errors = h('div');
  const out = h('div', { id: 'stats-result' });
  const form = h('form', { class: 'grid card', id: 'stats-form' },
    select('统计项目', 'family', FAMILIES.map(([name, , text]) => [name, text]), { id: 'stats-family' }),
    select('统计周期', 'period', PERIODS, { id: 'stats-period' }),
    field('日期（周期内任一天；自定义为起始日）', 'from', { id: 'stats-from', type: 'date', required: true, value: today() }),
    field('截止日期（仅自定义）', 'to', { id: 'stats-to', type: 'date' }),
    select('分组', 'groupBy', GROUPS, { id: 'stats-group' }),
    field('市场（可多个，逗号分隔；经营者默认本人市场）', 'market', { id: 'stats-market' }),
    field('区域代码（2、4 或 6 位）', 'region', { id: 'stats-region' }),
    select('类别', 'category', [['', '全部'], ...Object.entries(CATEGORY)], { id: 'stats-category' }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'stats-submit' }, '查询')),
    h('div', { class: 'wide' }, errors));
  keepDraft(form, 'stats');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    out.replaceChildren();
    act(form.querySelector('button'), errors, async () => {
      const v = values(form);
      const [family, rpc, title] = FAMILIES.find(([name]) => name === v.family);
      const { req, qs } = query(v);
      const resp = await call(svc.stats, rpc, req);
      const [header, rows] = tableOf(family, resp);
      const linkErrors = h('div');
      const fileLink = (format, text) => h('a', { href: '#', id: `stats-${format}`, class: 'button', onclick: (ev) => {
        ev.preventDefault();
        act(null, linkErrors, async () => save(await download(`/stats/export/${family}.${format}?${qs}`)));
      } }, text);
      render(out, h('div', { class: 'card' },
        h('h2', { id: 'stats-title' }, `${title} ${resp.fromDate} 至 ${resp.toDate}`),
        h('div', { class: 'actions' }, fileLink('csv', '下载 CSV'), fileLink('xlsx', '下载 XLSX')), linkErrors,
        rows.length ? h('div', { id: 'stats-table' }, table(header, rows)) : h('p', { class: 'muted', id: 'stats-empty' }, '该周期没有数据。')));
    });
  });
  render(main, h('h1', {}, '统计台账'), form, out);
}
