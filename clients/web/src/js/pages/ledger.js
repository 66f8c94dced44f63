// The ledger verified in the browser. The Ed25519 public key is pinned in this
// browser (localStorage, per console origin): pasted once as hex (the
// `public_key` of `marketctl ledger checkpoint`, or derived from
// DIR/credit/ledger-key.pem), or trusted on first use after comparing it. The
// checkpoint is then checked against the pinned key, never against the key the
// server reports, and every shown record is proven to be in the signed tree.
import { call, svc, send } from '../api.js';
import {
  openCheckpoint, TileReader, verifyEntry, hexToBytes, bytesToHex, base64ToBytes, bytesToBase64,
  VerificationError,
} from '../ledger.js';
import { h, render, act, table, time, errorBox } from '../ui.js';

const KEY_STORE = 'market.console.ledgerPublicKey';
const SHOWN = 10;  // the newest records shown and verified

export function pinnedKey() { return localStorage.getItem(KEY_STORE) || ''; }

async function fetchBytes(path) {
  const r = await send(path, {});
  if (!r.ok) throw new VerificationError(`服务器对 ${path} 返回 ${r.status}：${(await r.text()).trim()}`);
  return new Uint8Array(await r.arrayBuffer());
}

// Everything the page shows, verified; throws VerificationError (or ApiError).
export async function verifyLedger(keyHex) {
  const publicKey = hexToBytes(keyHex);
  if (publicKey.length !== 32) throw new VerificationError('Ed25519 公钥应为 32 字节（64 个十六进制字符）');
  const note = new TextDecoder().decode(await fetchBytes('/checkpoint'));
  const checkpoint = await openCheckpoint(note, publicKey);
  const reader = new TileReader(checkpoint.size, fetchBytes);
  if (checkpoint.size > 0) {
    const root = await reader.range(0, checkpoint.size);
    if (bytesToBase64(root) !== bytesToBase64(checkpoint.root)) {
      throw new VerificationError('由瓦片重算的根哈希与签名的根哈希不符');
    }
  }
  const start = Math.max(0, checkpoint.size - SHOWN);
  const served = checkpoint.size
    ? await call(svc.ledger, 'GetRecords', { start: String(start), end: String(checkpoint.size) })
    : { records: [] };
  const byIndex = new Map((served.records || []).map((e) => [Number(e.index), e]));
  const records = [];
  for (let i = checkpoint.size - 1; i >= start; i--) {
    const e = byIndex.get(i);
    const opening = e && e.salt && e.content
      ? { salt: base64ToBytes(e.salt), content: base64ToBytes(e.content) } : null;
    records.push(await verifyEntry(reader, checkpoint, i, opening));
  }
  return { checkpoint, records };
}

function verdict(ok, text) {
  return h('div', { class: `verdict ${ok ? 'ok' : 'bad'}`, id: 'ledger-verdict', dataset: { verified: String(ok) } },
    ok ? `✓ 已验证（verified）：${text}` : `✗ 未通过验证（NOT verified）：${text}`);
}

export async function ledgerPage(main) {
  const out = h('div', { id: 'ledger-result' });
  const keyErrors = h('div');
  const keyShown = h('p', { class: 'mono', id: 'ledger-pinned' });
  const showKey = () => { keyShown.textContent = pinnedKey() ? `已固定公钥：${pinnedKey()}` : '尚未固定公钥。'; };
  showKey();
  const keyForm = h('form', { class: 'grid', id: 'ledger-key-form' },
    h('label', { class: 'wide' }, '账本公钥（十六进制，marketctl ledger checkpoint 输出的 public_key）',
      h('input', { name: 'key', id: 'ledger-key', autocomplete: 'off', spellcheck: 'false' })),
    h('div', { class: 'actions wide' },
      h('button', { type: 'submit', id: 'ledger-pin' }, '固定此公钥'),
      h('button', { type: 'button', class: 'secondary', id: 'ledger-tofu', onclick: (e) => act(e.currentTarget, keyErrors, async () => {
        const c = await call(svc.ledger, 'GetCheckpoint', {}, { auth: false });
        const hex = bytesToHex(base64ToBytes(c.publicKey || ''));
        if (!window.confirm(`服务器报告的公钥为：\n${hex}\n请与线下获得的公钥核对。确认固定？`)) return;
        localStorage.setItem(KEY_STORE, hex);
        showKey();
      }) }, '首次信任服务器报告的公钥')),
    h('div', { class: 'wide' }, keyErrors));
  keyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    act(null, keyErrors, async () => {
      const key = keyForm.key.value.trim().toLowerCase();
      if (hexToBytes(key).length !== 32) throw new VerificationError('Ed25519 公钥应为 64 个十六进制字符');
      localStorage.setItem(KEY_STORE, key);
      showKey();
    });
  });
  const run = async () => {
    render(out, h('p', { class: 'muted' }, '正在验证…'));
    if (!pinnedKey()) { render(out, verdict(false, '没有固定的公钥，无法验证')); return; }
    try {
      const { checkpoint, records } = await verifyLedger(pinnedKey());
      render(out, verdict(true, `检查点签名有效，${records.length} 条记录的包含证明均通过`),
        table(['来源', '树大小', '根哈希'], [[checkpoint.origin, checkpoint.size, bytesToBase64(checkpoint.root)]]),
        h('h2', {}, '最新记录（已在浏览器中验证）'),
        table(['序号', '主体', '等级', '类型', '发生时间', '证明'], records.map((r) => [
          r.index, r.subject, r.tier, r.type || '（不公开）', time(r.occurredTime),
          `✓ ${r.proofLength} 个哈希${r.opened ? '，内容已核对' : ''}`])));
    } catch (err) {
      render(out, verdict(false, err instanceof VerificationError ? err.message : (err.readable || err.message)),
             err instanceof VerificationError ? null : errorBox(err));
    }
  };
  render(main, h('h1', {}, '信用账本验证'),
    h('p', {}, '本页在浏览器中用 WebCrypto 验证检查点的 Ed25519 签名，并用 SHA-256 验证每条记录的包含证明，无需信任服务器。'),
    h('div', { class: 'card' }, h('h2', {}, '固定的公钥'), keyShown, keyForm),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'ledger-verify', onclick: run }, '验证账本')),
    out);
  await run();
}
