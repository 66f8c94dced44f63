// Public pages: listing search (category, price in 元, grade, market, region,
// appraised only, free text), a listing with its appraisal, warranty terms and
// the seller's public credit level, a subject's public credit profile, and the
// black and red lists.
import { call, svc, photoUrl, requestId } from '../api.js';
import { session, subjectName } from '../session.js';
import {
  h, render, act, yuan, toFen, time, label, field, select, checkbox, textarea, values, keepDraft, clearDraft, table,
  link, CATEGORY, LISTING_STATE, LEVEL_TEXT, errorBox,
} from '../ui.js';
import { certificateUrl } from '../report.js';

export const GRADES = ['全新', '99新', '95新', '9成新', '8成新', '7成新', '6成及以下', '报废'];

// The SearchListings filter for the form's values; throws on a bad price.
export function searchFilter(v) {
  const terms = [];
  if (v.category) terms.push(`category=${v.category}`);
  for (const [key, op] of [['minPrice', '>='], ['maxPrice', '<=']]) {
    if (!v[key]) continue;
    const fen = toFen(v[key]);
    if (Number.isNaN(fen)) throw new Error(`价格「${v[key]}」不是有效金额（元，最多两位小数）`);
    terms.push(`price${op}${fen}`);
  }
  if (v.grade) terms.push(`grade>="${v.grade}"`);
  if (v.market) terms.push(`market="${v.market.includes('/') ? v.market : `markets/${v.market}`}"`);
  if (v.region) terms.push(`region="${v.region}"`);
  if (v.appraised) terms.push('has_valid_appraisal=true');
  return terms.join(' AND ');
}

export function listingCard(l) {
  const photo = (l.photos || [])[0];
  return h('div', { class: 'card listing-card', dataset: { listing: l.name } },
    photo ? h('img', { src: photoUrl(l, 0), alt: l.title, loading: 'lazy', class: 'thumb' })
          : h('div', { class: 'thumb' }),
    h('div', {},
      h('div', {}, link(l.title, `listing/${l.name}`)),
      h('div', { class: 'price' }, yuan(l.price)),
      h('div', {}, h('span', { class: 'tag' }, label(CATEGORY, l.category)),
        l.declaredCondition ? h('span', { class: 'tag' }, l.declaredCondition.level) : null,
        l.latestAppraisal ? h('span', { class: 'tag ok' }, '已鉴定') : null,
        l.state !== 'PUBLISHED' ? h('span', { class: 'tag' }, label(LISTING_STATE, l.state)) : null),
      h('div', { class: 'muted' }, l.name.split('/listings/')[0])));
}

export async function searchPage(main) {
  const results = h('div', { class: 'results', id: 'search-results' });
  const errors = h('div');
  const form = h('form', { class: 'grid card', id: 'search-form' },
    field('关键词', 'query', { id: 'search-query', placeholder: '如：冰箱、iPhone', maxlength: 100 }),
    select('类别', 'category', [['', '全部'], ...Object.entries(CATEGORY)], { id: 'search-category' }),
    field('最低价（元）', 'minPrice', { inputmode: 'decimal', id: 'search-min' }),
    field('最高价（元）', 'maxPrice', { inputmode: 'decimal', id: 'search-max' }),
    select('成色不低于', 'grade', [['', '不限'], ...GRADES.map((g) => [g, g])], { id: 'search-grade' }),
    field('市场（如 markets/east-flea）', 'market', { id: 'search-market' }),
    field('地区代码（2、4 或 6 位）', 'region', { inputmode: 'numeric', id: 'search-region' }),
    checkbox('只看有效鉴定', 'appraised', { id: 'search-appraised' }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'search-submit' }, '搜索')),
    h('div', { class: 'wide' }, errors));
  keepDraft(form, 'search');
  const run = (button) => act(button, errors, async () => {
    const v = values(form);
    const r = await call(svc.listing, 'SearchListings', {
      parent: 'markets/-', filter: searchFilter(v), query: v.query, pageSize: 50,
    });
    const list = r.listings || [];
    render(results, list.length ? list.map(listingCard) : h('p', { class: 'muted' }, '没有找到符合条件的商品。'));
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); run(form.querySelector('button')); });
  render(main, h('h1', {}, '商品搜索'), form, results);
  await run(null);
}

function warrantyTerms(p) {
  if (!p) return h('p', { class: 'muted' }, '无质保条款');
  const rows = [
    ['无理由退货', p.refundDays ? `${p.refundDays} 天` : '—'],
    ['换货', p.exchangeDays ? `${p.exchangeDays} 天` : '—'],
    ['保修', p.repairDays ? `${p.repairDays} 天` : '—'],
  ];
  if (p.exchangeKm) rows.push(['换货里程', `${p.exchangeKm} 公里`]);
  if (p.repairKm) rows.push(['保修里程', `${p.repairKm} 公里`]);
  if (p.batteryDays) rows.push(['电池质保', `${p.batteryDays} 天`]);
  return table(['条款', '期限'], rows);
}

async function creditLevel(subject) {
  try {
    const p = await call(svc.credit, 'GetCreditProfile', { name: `${subject}/creditProfile` });
    return h('span', { class: 'level', id: 'seller-level' }, label(LEVEL_TEXT, p.level),
      p.blacklisted ? h('span', { class: 'tag bad' }, '严重失信名单') : null,
      p.redlisted ? h('span', { class: 'tag ok' }, '守信激励名单') : null);
  } catch (err) {
    return errorBox(err);
  }
}

export async function listingPage(main, name) {
  const l = await call(svc.listing, 'GetListing', { name });
  const details = l.phone || l.appliance || l.furniture || l.vehicle || {};
  const a = l.latestAppraisal;
  const orderBox = h('div');
  if (l.state === 'PUBLISHED' && session.hasRole('BUYER')) orderBox.append(orderForm(l));
  render(main,
    h('h1', {}, l.title),
    h('div', { class: 'card' },
      h('div', { class: 'price' }, yuan(l.price)),
      h('p', {}, h('span', { class: 'tag' }, label(CATEGORY, l.category)),
        h('span', { class: 'tag' }, label(LISTING_STATE, l.state)),
        l.declaredCondition ? h('span', { class: 'tag' }, `自述成色 ${l.declaredCondition.level}`) : null),
      h('p', {}, l.description),
      h('div', { class: 'photos' }, (l.photos || []).map((p, i) => h('img', { src: photoUrl(l, i), alt: l.title }))),
      Object.keys(details).length
        ? table(['项目', '内容'], Object.entries(details).map(([k, v]) => [k, Array.isArray(v) ? v.join('、') : String(v)]))
        : null,
      (l.disclosedDefects || []).length
        ? h('div', {}, h('h2', {}, '已披露瑕疵'), h('ul', {}, l.disclosedDefects.map((d) => h('li', {}, d))))
        : null),
    h('div', { class: 'card' }, h('h2', {}, '鉴定'),
      a ? h('div', { id: 'appraisal' },
        h('p', {}, (a.grades || []).map((g) => h('span', { class: 'tag' }, `${g.scheme}: ${g.level}`)),
          a.score !== undefined ? `评分 ${a.score}` : ''),
        h('p', { class: 'muted' }, `检测时间 ${time(a.inspectedTime)}，有效期至 ${time(a.validUntil)}`),
        h('p', {}, link(`验证报告 ${a.name}`, `verify/${a.name}`)))
        : h('p', { class: 'muted' }, '暂无鉴定报告')),
    h('div', { class: 'card' }, h('h2', {}, '质保条款'), warrantyTerms(l.warrantyPolicy)),
    h('div', { class: 'card' }, h('h2', {}, '卖家公示信用'),
      h('p', {}, link(l.seller, `credit/${l.seller}`), ' '), await creditLevel(l.seller)),
    orderBox);
}

function orderForm(l) {
  const errors = h('div');
  const defects = l.disclosedDefects || [];
  const form = h('form', { class: 'card grid', id: 'order-form' }, h('h2', { class: 'wide' }, '购买'),
    defects.length ? checkbox(`我已知悉以上 ${defects.length} 项瑕疵`, 'ack', { id: 'order-ack' }) : null,
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'order-submit' }, '下单')),
    h('div', { class: 'wide' }, errors));
  const rid = requestId();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      const o = await call(svc.order, 'PlaceOrder', {
        listing: l.name, listingEtag: l.etag, defectsAcknowledged: !!(form.ack && form.ack.checked), requestId: rid,
      });
      location.hash = `#/my/orders/${o.name}`;
    });
  });
  return form;
}

export async function creditPage(main, rest) {
  const errors = h('div');
  const out = h('div', { id: 'credit-result' });
  const form = h('form', { class: 'grid card', id: 'credit-form' },
    field('主体（如 subjects/seller-li）', 'subject', { id: 'credit-subject', required: true, value: rest || '' }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit' }, '查询')), h('div', { class: 'wide' }, errors));
  const show = (button) => act(button, errors, async () => {
    const subject = subjectName(form.subject.value);
    const p = await call(svc.credit, 'GetCreditProfile', { name: `${subject}/creditProfile` });
    render(out, h('div', { class: 'card' },
      h('p', {}, subject, '：', h('span', { class: 'level', id: 'credit-level' }, label(LEVEL_TEXT, p.level))),
      table(['守信记录', '一般失信', '严重失信', '严重失信名单', '守信激励名单'],
            [[p.positiveCount || 0, p.generalCount || 0, p.seriousCount || 0, p.blacklisted ? '是' : '否',
              p.redlisted ? '是' : '否']]),
      h('p', { class: 'muted' }, `评价时间 ${time(p.evaluateTime)}；账本大小 ${p.treeSize || 0}。`,
        link('在浏览器中验证账本', 'ledger'))));
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); show(form.querySelector('button')); });
  render(main, h('h1', {}, '信用公示'), form, out);
  if (rest) await show(null);
}

function creditList(entries, id) {
  if (!entries.length) return h('p', { class: 'muted', id }, '名单为空');
  return h('div', { id }, table(['主体', '名称', '原因', '起始', '截止'],
    entries.map((e) => [link(e.subject, `credit/${e.subject}`), e.displayName || '', e.reasonType || '',
                        time(e.since), time(e.until)])));
}

export async function listsPage(main) {
  const [black, red] = await Promise.all([
    call(svc.credit, 'ListBlacklist', { pageSize: 100 }), call(svc.credit, 'ListRedlist', { pageSize: 100 })]);
  render(main, h('h1', {}, '红黑名单'),
    h('div', { class: 'card' }, h('h2', {}, '严重失信名单（黑名单）'), creditList(black.entries || [], 'blacklist')),
    h('div', { class: 'card' }, h('h2', {}, '守信激励名单（红名单）'), creditList(red.entries || [], 'redlist')));
}


// Who may dispute a report: the listing's parties, or another accredited firm.
const DISPUTERS = ['SELLER', 'BUYER', 'APPRAISAL_FIRM', 'APPRAISER'];

// Disputing a filed report (within 15 days of filing; the server checks who).
function disputeForm(appraisal) {
  const errors = h('div');
  const done = h('div');
  const form = h('form', { class: 'grid', id: 'dispute-form' }, h('h2', { class: 'wide' }, '对此报告提出争议'),
    textarea('争议理由', 'reason', { id: 'dispute-reason', required: true, maxlength: 2000 }),
    field('对照鉴定报告（可选，appraisals/…）', 'counterAppraisal', { id: 'dispute-counter', wide: true }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'dispute-submit' }, '提交争议')),
    h('div', { class: 'wide' }, errors), h('div', { class: 'wide' }, done));
  keepDraft(form, `dispute-file.${appraisal}`);
  const rid = requestId();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      const v = values(form);
      const d = await call(svc.appraisal, 'FileDispute', { parent: appraisal, requestId: rid,
        dispute: { reason: v.reason, counterAppraisal: v.counterAppraisal } });
      clearDraft(`dispute-file.${appraisal}`);
      render(done, h('p', { class: 'verdict ok', id: 'dispute-filed' }, `已提交争议 ${d.name}，等待监管部门裁决`));
    });
  });
  return form;
}

// Verifies an appraisal report: a filed one by name (the link a certificate's
// QR code carries: #/verify/appraisals/…), or raw bytes pasted as base64.
export async function verifyAppraisalPage(main, rest) {
  const errors = h('div');
  const out = h('div', { id: 'verify-result' });
  const form = h('form', { class: 'grid card', id: 'verify-form' },
    field('报告编号（appraisals/…）', 'name', { id: 'verify-name', value: rest || '', wide: true }),
    h('p', { class: 'wide muted' }, '或粘贴报告原文与签名（Base64）及签名密钥：'),
    field('报告原文 signed_content（Base64）', 'signedContent', { id: 'verify-content', wide: true }),
    field('签名 signature（Base64）', 'signature', { id: 'verify-signature', wide: true }),
    field('签名密钥（firms/…/keys/…）', 'key', { id: 'verify-key', wide: true }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'verify-submit' }, '验证')),
    h('div', { class: 'wide' }, errors));
  const run = (button) => act(button, errors, async () => {
    const v = values(form);
    const request = v.name ? { name: v.name } : { signedContent: v.signedContent, signature: v.signature, key: v.key };
    const r = await call(svc.appraisal, 'VerifyAppraisal', request, { auth: false });
    const c = r.content || {};
    let certificate = null;
    if (r.appraisal) {
      const bytes = v.name ? (await call(svc.appraisal, 'GetAppraisal', { name: r.appraisal }, { auth: false })).signedContent
        : v.signedContent;
      certificate = h('p', {}, h('a', { href: await certificateUrl(r.appraisal, bytes), id: 'verify-certificate-link' },
        '打开证书验证页（二维码所指地址）'));
    }
    render(out, h('div', { class: 'card' },
      h('div', { class: `verdict ${r.valid ? 'ok' : 'bad'}`, id: 'verify-verdict' },
        r.valid ? '✓ 鉴定报告有效' : '✗ 鉴定报告无效'),
      table(['检查', '结果'], [
        ['签名', r.signatureValid ? '有效' : '无效'], ['签名密钥状态', r.keyState || '—'],
        ['资质', r.accreditationValid ? `有效（${r.accreditation}）` : '无效'],
        ['报告状态', r.appraisalState || '—'], ['是否过期', r.expired ? '已过期' : '未过期']]),
      (r.problems || []).length ? h('ul', { class: 'bad' }, r.problems.map((p) => h('li', {}, p))) : null,
      certificate,
      r.appraisal && ['FILED', 'DISPUTED'].includes(r.appraisalState) && DISPUTERS.some((x) => session.hasRole(x))
        ? disputeForm(r.appraisal) : null,
      Object.keys(c).length ? h('pre', { class: 'mono' }, JSON.stringify(c, null, 2)) : null));
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); run(form.querySelector('button')); });
  render(main, h('h1', {}, '验证鉴定报告'), form, out);
  if (rest) await run(null);
}
