// Appraisal firms and their appraisers: the firm's accreditations, signing
// keys, reports and the disputes about them; filing a report signed in the
// browser (WebCrypto Ed25519; the private key is read from the page, never
// sent or stored).
import { call, svc, requestId } from '../api.js';
import { session } from '../session.js';
import {
  h, render, act, field, select, textarea, values, keepDraft, clearDraft, table, link, time, label, CATEGORY,
} from '../ui.js';
import {
  serializeContent, importPrivateKey, publicKeyOf, sign, toBase64, fromBase64, sha256Hex, certificateUrl,
} from '../report.js';

export const APPRAISAL_STATE = { FILED: '有效', SUPERSEDED: '已被新报告取代', DISPUTED: '争议中',
  OVERTURNED: '已被撤销（争议成立）', REVOKED: '已被吊销' };
export const DISPUTE_STATE = { OPEN: '待裁决', UPHELD: '争议成立', DISMISSED: '争议驳回' };
const ACCREDITATION_STATE = { ACTIVE: '有效', SUSPENDED: '暂停', REVOKED: '已撤销', EXPIRED: '已过期' };
const KEY_STATE = { ACTIVE: '启用', RETIRED: '已停用' };

// The signed-in subject's firm: itself for APPRAISAL_FIRM, its affiliation
// for an APPRAISER. Returns { firm: "firms/x", subject }.
async function myFirm() {
  const me = session.who.subject;
  if (session.hasRole('APPRAISAL_FIRM')) return { firm: `firms/${me.split('/').pop()}`, subject: null };
  const s = await call(svc.identity, 'GetSubject', { name: me });
  if (!s.affiliation) throw new Error('此鉴定师账号没有所属鉴定机构');
  return { firm: `firms/${s.affiliation.split('/').pop()}`, subject: s };
}

// Registering a public key (the firm only): the PEM `marketctl appraisal
// keygen` prints, or the raw key in base64.
function registerKeyForm(firm, reload) {
  const errors = h('div');
  const form = h('form', { class: 'grid', id: 'key-form' }, h('h2', { class: 'wide' }, '登记签名公钥'),
    field('密钥 ID（可选，如 minjian-2026）', 'keyId', { id: 'key-id' }),
    textarea('公钥（PEM，-----BEGIN PUBLIC KEY-----）', 'publicKeyPem', { id: 'key-pem', rows: 4, class: 'mono',
                                                                       required: true }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'key-submit' }, '登记')),
    h('div', { class: 'wide' }, errors));
  keepDraft(form, 'register-key');
  const rid = requestId();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      const v = values(form);
      await call(svc.appraisal, 'RegisterSigningKey', { parent: firm, keyId: v.keyId, requestId: rid,
        signingKey: { publicKeyPem: `${form.publicKeyPem.value.trim()}\n` } });
      clearDraft('register-key');
      await reload();
    });
  });
  return form;
}

export async function firmPage(main) {
  const { firm } = await myFirm();
  const [acc, keys, reports, disputes] = await Promise.all([
    call(svc.appraisal, 'ListAccreditations', { parent: firm, pageSize: 200 }),
    call(svc.appraisal, 'ListSigningKeys', { parent: firm, pageSize: 200 }),
    call(svc.appraisal, 'ListAppraisals', { filter: `firm="${firm}"`, pageSize: 200 }),
    call(svc.appraisal, 'ListDisputes', { parent: 'appraisals/-', pageSize: 200 }),
  ]);
  const appraisals = reports.appraisals || [];
  const ours = new Set(appraisals.map((a) => a.name));
  const ourDisputes = (disputes.disputes || []).filter((d) => ours.has(d.name.split('/disputes/')[0]));
  const certificates = await Promise.all(appraisals.map((a) => certificateUrl(a.name, a.signedContent)));
  render(main, h('h1', {}, `鉴定机构 ${firm}`),
    h('p', {}, link('提交鉴定报告', 'firm/file')),
    h('div', { class: 'card', id: 'firm-accreditations' }, h('h2', {}, '资质'),
      table(['资质', '类别', '有效期', '证书编号', '状态'], (acc.accreditations || []).map((a) => [
        a.name, (a.categories || []).map((c) => label(CATEGORY, c)).join('、'),
        `${time(a.validFrom)} 至 ${time(a.validUntil)}`, a.certificateNumber || '—',
        `${label(ACCREDITATION_STATE, a.state)}${a.stateReason ? `（${a.stateReason}）` : ''}`]))),
    h('div', { class: 'card', id: 'firm-keys' }, h('h2', {}, '签名密钥'),
      table(['密钥', '指纹（SHA-256）', '状态'], (keys.signingKeys || []).map((k) => [
        k.name, h('span', { class: 'mono' }, k.fingerprint), label(KEY_STATE, k.state)])),
      session.hasRole('APPRAISAL_FIRM') ? registerKeyForm(firm, () => firmPage(main)) : null),
    h('div', { class: 'card', id: 'firm-reports' }, h('h2', {}, '本机构的鉴定报告'), appraisals.length
      ? table(['报告', '报告编号', '物品', '状态', '检测时间', '提交人', ''], appraisals.map((a, i) => [
        link(a.name, `verify/${a.name}`), (a.content || {}).reportNumber || '', a.item,
        label(APPRAISAL_STATE, a.state), time((a.content || {}).inspectedTime), a.filer || '—',
        h('a', { href: certificates[i], class: 'certificate-link' }, '证书验证页')]))
      : h('p', { class: 'muted' }, '暂无报告。')),
    h('div', { class: 'card', id: 'firm-disputes' }, h('h2', {}, '关于本机构报告的争议'), ourDisputes.length
      ? table(['争议', '提出人', '理由', '状态', '裁决理由'], ourDisputes.map((d) => [
        d.name, `${d.raiser}（${d.raiserRole || ''}）`, d.reason, label(DISPUTE_STATE, d.state), d.rulingReason || '—']))
      : h('p', { class: 'muted' }, '暂无争议。')));
}

// A starting report for the form (the JSON marketctl appraisal file reads).
function template(firm, subject) {
  const hour = 3600 * 1000;
  const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return JSON.stringify({
    reportNumber: '', firm, firmCreditCode: '', appraiser: subject ? subject.name : '',
    appraiserQualificationNumber: '', listing: '', category: 'PHONE',
    identifiers: { imei: '', brand: '', model: '' },
    grades: [{ scheme: 'phone-cosmetic-v1', version: 1, level: '95新' },
             { scheme: 'phone-function-v1', version: 1, level: '0' }],
    disclosedDefects: [],
    inspectedTime: iso(Date.now() - hour), validUntil: iso(Date.now() + 90 * 24 * hour),
  }, null, 2);
}

export async function fileReportPage(main) {
  const { firm, subject } = await myFirm();
  const keys = await call(svc.appraisal, 'ListSigningKeys', { parent: firm, filter: 'state=ACTIVE', pageSize: 200 });
  const active = keys.signingKeys || [];
  const errors = h('div');
  const out = h('div', { id: 'file-result' });
  const keyFile = h('input', { type: 'file', id: 'report-private-key-file', accept: '.pem,.key,.txt' });
  const form = h('form', { class: 'grid card', id: 'report-form' },
    select('签名密钥', 'key', active.map((k) => [k.name, `${k.name}（${k.fingerprint.slice(0, 12)}…）`]),
           { id: 'report-key', required: true }),
    field('报告 ID（可选，如 mate60-report）', 'appraisalId', { id: 'report-id' }),
    textarea('报告内容（AppraisalContent 的 JSON，与 marketctl appraisal file 读取的 report.json 相同）',
             'content', { id: 'report-json', rows: 18, class: 'mono', required: true, spellcheck: 'false' }),
    field('私钥（PKCS#8 PEM 或 64 位十六进制；只在本页用于签名，不会上传或保存）', 'privateKey',
          { id: 'report-private-key', type: 'password', autocomplete: 'off', wide: true }),
    h('label', { class: 'wide' }, '或从文件读取私钥（marketctl appraisal keygen 生成的 .pem）', keyFile),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'report-submit' }, '签名并提交')),
    h('div', { class: 'wide' }, errors));
  if (!active.length) errors.append(h('p', { class: 'warn' }, '本机构没有启用的签名密钥，请先登记公钥（marketctl appraisal register-key）。'));
  form.content.value = template(firm, subject);
  keepDraft(form, 'report');
  const rid = requestId();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button[type=submit]'), errors, async () => {
      const v = values(form);
      const bytes = serializeContent(form.content.value);
      let pem = v.privateKey;
      if (!pem && keyFile.files.length) pem = await keyFile.files[0].text();
      if (!pem) throw new Error('请填写或选择私钥');
      const privateKey = await importPrivateKey(pem);
      const chosen = active.find((k) => k.name === v.key);
      if (chosen && toBase64(await publicKeyOf(privateKey)) !== toBase64(fromBase64(chosen.publicKey))) {
        throw new Error(`私钥与所选签名密钥 ${chosen.name} 不匹配`);
      }
      const signature = await sign(privateKey, bytes);
      const a = await call(svc.appraisal, 'FileAppraisal', { appraisal: {
        signedContent: toBase64(bytes), signature: toBase64(signature), key: v.key },
        appraisalId: v.appraisalId, requestId: rid });
      clearDraft('report');
      form.privateKey.value = '';
      render(out, h('div', { class: 'card' },
        h('p', { class: 'verdict ok', id: 'filed-name' }, `已提交：${a.name}（${label(APPRAISAL_STATE, a.state)}）`),
        h('p', {}, `物品 ${a.item}；签名内容 SHA-256 `, h('span', { class: 'mono', id: 'filed-sha256' },
          await sha256Hex(bytes))),
        h('p', {}, link('验证此报告', `verify/${a.name}`), ' · ',
          h('a', { href: await certificateUrl(a.name, a.signedContent || toBase64(bytes)) }, '证书验证页'))));
    });
  });
  render(main, h('h1', {}, '提交鉴定报告'), form, out);
}
