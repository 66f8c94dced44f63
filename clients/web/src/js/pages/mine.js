// Buyers and sellers: my listings, my orders (confirm delivery, complete,
// cancel, file a claim) and my claims with their deadlines and state (the
// seller accepts or rejects, the buyer escalates a rejection).
import { call, svc, requestId } from '../api.js';
import { session } from '../session.js';
import {
  h, render, act, field, select, textarea, values, keepDraft, clearDraft, table, link, yuan, time, label,
  LISTING_STATE, CLAIM_STATE, CLAIM_KIND,
} from '../ui.js';
import { ordersTable } from './organizer.js';

export async function myListingsPage(main) {
  const me = session.who.subject;
  const found = [];
  for (const state of ['DRAFT', 'PUBLISHED', 'RESERVED', 'SOLD', 'WITHDRAWN']) {
    const r = await call(svc.listing, 'SearchListings', {
      parent: 'markets/-', filter: `seller="${me}" AND state=${state}`, pageSize: 200 });
    found.push(...(r.listings || []));
  }
  render(main, h('h1', {}, '我的商品'), found.length
    ? table(['商品', '价格', '状态', '发布时间'], found.map((l) => [link(l.title, `listing/${l.name}`), yuan(l.price),
      label(LISTING_STATE, l.state), time(l.publishTime)]))
    : h('p', { class: 'muted' }, '暂无商品。'));
}

function claimForm(order, done) {
  const errors = h('div');
  const key = `claim.${order.name}`;
  const form = h('form', { class: 'grid card', id: 'claim-form', dataset: { order: order.name } },
    h('h2', { class: 'wide' }, `申请售后：${order.name}`),
    select('类型', 'kind', Object.entries(CLAIM_KIND), { id: 'claim-kind' }),
    field('故障代码（大写字母、数字、_）', 'faultCode', { id: 'claim-fault-code', required: true }),
    textarea('故障描述', 'faultDescription', { id: 'claim-fault', required: true }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'claim-submit' }, '提交申请')),
    h('div', { class: 'wide' }, errors));
  keepDraft(form, key);
  const rid = requestId();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      const v = values(form);
      await call(svc.warranty, 'FileClaim', { requestId: rid, claim: {
        order: order.name, kind: v.kind, faultCode: v.faultCode, faultDescription: v.faultDescription } });
      clearDraft(key);
      done();
    });
  });
  return form;
}

export async function myOrdersPage(main) {
  const me = session.who.subject;
  const errors = h('div');
  const below = h('div');
  const r = await call(svc.order, 'ListOrders', { parent: 'markets/-', pageSize: 200,
    filter: session.hasRole('BUYER') ? `buyer="${me}"` : `seller="${me}"` });
  const step = (o, method, text, id) => h('button', { type: 'button', class: 'secondary', id: `${id}-${o.name.split('/').pop()}`,
    onclick: (e) => act(e.currentTarget, errors, async () => {
      await call(svc.order, method, { name: o.name, etag: o.etag, requestId: requestId() });
      await myOrdersPage(main);
    }) }, text);
  const actions = (o) => {
    const mine = o.buyer === me;
    return h('div', { class: 'actions' },
      mine && o.state === 'PLACED' ? step(o, 'ConfirmDelivery', '确认收货', 'confirm') : null,
      mine && o.state === 'DELIVERED' ? step(o, 'CompleteOrder', '完成订单', 'complete') : null,
      o.state === 'PLACED' ? step(o, 'CancelOrder', '取消', 'cancel') : null,
      mine && (o.state === 'DELIVERED' || o.state === 'COMPLETED')
        ? h('button', { type: 'button', class: 'secondary', id: `claim-${o.name.split('/').pop()}`, onclick: () => {
          render(below, claimForm(o, () => { location.hash = '#/my/claims'; }));
          below.scrollIntoView();
        } }, '申请售后') : null);
  };
  render(main, h('h1', {}, '我的订单'), errors,
    (r.orders || []).length ? h('div', { id: 'orders' }, ordersTable(r.orders, actions))
      : h('p', { class: 'muted' }, '暂无订单。可在「商品搜索」中下单。'), below);
}

function deadline(ts) {
  if (!ts) return '—';
  const left = new Date(ts).getTime() - Date.now();
  const days = Math.floor(left / 86400000);
  const hours = Math.floor((left % 86400000) / 3600000);
  return h('span', { class: left < 0 ? 'bad' : 'warn' }, time(ts),
           left < 0 ? '（已过期）' : `（剩余 ${days} 天 ${hours} 小时）`);
}

function reasonAction(c, text, id, errors, send) {
  return h('button', { type: 'button', class: 'secondary', id: `${id}-${c.name.split('/').pop()}`, onclick: (e) => {
    const reason = window.prompt(`${text}：请填写理由`);
    if (!reason) return;
    act(e.currentTarget, errors, () => send(reason));
  } }, text);
}

export async function myClaimsPage(main) {
  const me = session.who.subject;
  const errors = h('div');
  const r = await call(svc.warranty, 'ListClaims', { pageSize: 200,
    filter: session.hasRole('BUYER') ? `buyer="${me}"` : `seller="${me}"` });
  const reload = () => myClaimsPage(main);
  const actions = (c) => h('div', { class: 'actions' },
    c.seller === me && c.state === 'FILED' ? [
      h('button', { type: 'button', class: 'secondary', id: `accept-${c.name.split('/').pop()}`,
        onclick: (e) => act(e.currentTarget, errors, async () => {
          await call(svc.warranty, 'RespondToClaim', { name: c.name, decision: 'ACCEPT', etag: c.etag, requestId: requestId() });
          await reload();
        }) }, '接受'),
      reasonAction(c, '拒绝', 'reject', errors, async (reason) => {
        await call(svc.warranty, 'RespondToClaim', { name: c.name, decision: 'REJECT', reason, etag: c.etag, requestId: requestId() });
        await reload();
      })] : null,
    c.buyer === me && (c.state === 'REJECTED' || c.state === 'ACCEPTED' || c.state === 'UPHELD')
      ? reasonAction(c, '提请监管裁决', 'escalate', errors, async (reason) => {
        await call(svc.warranty, 'EscalateClaim', { name: c.name, reason, etag: c.etag, requestId: requestId() });
        await reload();
      }) : null);
  const claims = r.claims || [];
  render(main, h('h1', {}, '售后申请'), errors, claims.length
    ? h('div', { id: 'claims' }, claims.map((c) => h('div', { class: 'card claim', dataset: { claim: c.name } },
      h('p', {}, h('strong', {}, `${label(CLAIM_KIND, c.kind)} · `),
        h('span', { class: 'claim-state', dataset: { state: c.state } }, label(CLAIM_STATE, c.state)),
        c.rejectReason ? `（卖家理由：${c.rejectReason}）` : '', c.rulingReason ? `（裁决：${c.rulingReason}）` : ''),
      h('p', {}, `${c.faultCode}：${c.faultDescription}`),
      h('p', {}, '卖家答复期限：', h('span', { class: 'reply-deadline' }, deadline(c.replyDeadline))),
      c.resolveDeadline ? h('p', {}, '处理期限：', deadline(c.resolveDeadline)) : null,
      h('p', { class: 'muted mono' }, `${c.name} · ${c.order}`),
      actions(c))))
    : h('p', { class: 'muted' }, '暂无售后申请。'));
}
