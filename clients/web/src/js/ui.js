// DOM helpers, formatting in zh-CN, and the forms' safety net: every field is
// saved as a draft in sessionStorage while typing and restored when the page is
// drawn again; actions report errors next to the form and, when the server is
// unreachable, offer to retry without touching what was typed.
import { ApiError } from './api.js';

// h('div', {class: 'x', onclick: f}, 'text', child, [more]) → element.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function render(target, ...children) {
  target.replaceChildren();
  append(target, children);
}

// fen (string or number, as canonical JSON gives int64) → "¥123.45"
export function yuan(money) {
  if (!money) return '—';
  const fen = Number(money.amountFen || 0);
  return `¥${(fen / 100).toFixed(2)}`;
}
// "123.45" (元) → fen as a number; NaN when not a price.
export function toFen(text) {
  const s = String(text || '').trim();
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return NaN;
  return Math.round(Number(s) * 100);
}

export function time(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleString('zh-CN', { hour12: false });
}

export const CATEGORY = { PHONE: '手机', APPLIANCE: '家电', FURNITURE: '家具', VEHICLE: '二手车' };
export const ROLE = { SUPERVISOR: '监管部门', OPERATOR: '市场经营者', SELLER: '卖家', BUYER: '买家',
  APPRAISAL_FIRM: '鉴定机构', APPRAISER: '鉴定师', SERVICE: '服务账号' };
export const LISTING_STATE = { DRAFT: '草稿', PUBLISHED: '在售', RESERVED: '已预订', SOLD: '已售出',
  WITHDRAWN: '已下架', REMOVED: '已被移除' };
export const ORDER_STATE = { PLACED: '已下单', DELIVERED: '已交付', COMPLETED: '已完成', CANCELLED: '已取消' };
export const CLAIM_STATE = { FILED: '已提交', ACCEPTED: '卖家已接受', REJECTED: '卖家已拒绝',
  ESCALATED: '已提交监管裁决', UPHELD: '裁定支持买家', DISMISSED: '裁定驳回', RESOLVED: '已解决' };
export const CLAIM_KIND = { REFUND: '退货', EXCHANGE: '换货', REPAIR: '维修' };
export const LEVEL_TEXT = { A: 'A 级（守信）', B: 'B 级（一般）', C: 'C 级（失信）', D: 'D 级（严重失信）' };

export function label(map, value) { return map[value] || value || '—'; }

// A box under a form listing an error and its field violations.
export function errorBox(err) {
  const box = h('div', { class: 'error-box', role: 'alert' });
  if (err instanceof ApiError) {
    box.append(err.readable);
    const v = err.fieldViolations;
    if (v.length) box.append(h('ul', {}, v.map((f) => h('li', {}, `${f.field}：${f.description}`))));
  } else {
    box.append(`出错了：${err && err.message ? err.message : err}`);
  }
  return box;
}

// The banner at the top: a message and optional buttons [{text, onclick}].
export function banner(message, { error = false, buttons = [] } = {}) {
  const el = document.getElementById('banner');
  if (!message) { el.hidden = true; el.replaceChildren(); return; }
  el.className = error ? 'banner error' : 'banner';
  render(el, h('span', {}, message),
         buttons.map((b) => h('button', { type: 'button', class: 'secondary', onclick: b.onclick }, b.text)));
  el.hidden = false;
}

// Runs `fn` for a user action: disables `button`, shows errors in `where`
// (an element, cleared first), and for an unreachable server shows a banner
// with a retry button. Resolves with fn's result, or undefined on error.
export async function act(button, where, fn) {
  if (button) button.disabled = true;
  if (where) where.replaceChildren();
  try {
    const result = await fn();
    banner('');
    return result;
  } catch (err) {
    if (where) where.append(errorBox(err));
    if (err instanceof ApiError && err.code === 'UNAVAILABLE') {
      banner('无法连接服务器（可能正在重启）。您填写的内容都已保留，请稍后重试。', {
        error: true,
        buttons: [{ text: '重试', onclick: () => act(button, where, fn) }],
      });
    }
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// Draft persistence: fields of `form` (by name) saved under `key` on input and
// restored now. Call clearDraft(key) after a successful submit.
export function keepDraft(form, key) {
  const storeKey = `market.console.draft.${key}`;
  let saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(storeKey) || '{}'); } catch { saved = {}; }
  for (const el of form.elements) {
    if (!el.name || el.type === 'file' || el.type === 'password' || !(el.name in saved)) continue;
    if (el.type === 'checkbox') el.checked = !!saved[el.name];
    else el.value = saved[el.name];
  }
  form.addEventListener('input', () => {
    const data = {};
    for (const el of form.elements) {
      if (!el.name || el.type === 'file' || el.type === 'password') continue;
      data[el.name] = el.type === 'checkbox' ? el.checked : el.value;
    }
    sessionStorage.setItem(storeKey, JSON.stringify(data));
  });
}
export function clearDraft(key) { sessionStorage.removeItem(`market.console.draft.${key}`); }

// Form controls.
export function field(text, name, attrs = {}) {
  return h('label', { class: attrs.wide ? 'wide' : undefined }, text,
           h('input', { name, ...attrs, wide: undefined }));
}
export function select(text, name, options, attrs = {}) {
  return h('label', {}, text, h('select', { name, ...attrs },
    options.map(([value, shown]) => h('option', { value }, shown))));
}
export function textarea(text, name, attrs = {}) {
  return h('label', { class: 'wide' }, text, h('textarea', { name, ...attrs }));
}
export function checkbox(text, name, attrs = {}) {
  return h('label', { class: 'inline' }, h('input', { type: 'checkbox', name, ...attrs }), text);
}
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value.trim();
  }
  return out;
}

export function table(headers, rows) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}

// "markets/x/listings/y" → "#/listing/markets/x/listings/y"
export function link(text, hash) { return h('a', { href: `#/${hash}` }, text); }
