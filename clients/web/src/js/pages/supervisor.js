// The market-supervision officer: subjects (create, suspend, reinstate),
// credit lookup (always with a purpose, which is access-logged), claims
// awaiting a ruling, recording a sanction decision, and the black list.
import { call, svc, requestId } from '../api.js';
import { subjectName } from '../session.js';
import {
  h, render, act, field, select, textarea, checkbox, values, keepDraft, clearDraft, table, link, time, label,
  ROLE, LEVEL_TEXT, CLAIM_STATE, CLAIM_KIND,
} from '../ui.js';

export async function subjectsPage(main) {
  const r = await call(svc.identity, 'ListSubjects', { pageSize: 500 });
  const errors = h('div');
  const reload = () => subjectsPage(main);
  const form = h('form', { class: 'grid card', id: 'subject-form' }, h('h2', { class: 'wide' }, '新建主体'),
    field('账号编号（如 seller-li）', 'subjectId', { id: 'subject-id', required: true }),
    select('类型', 'kind', [['PERSON', '个人'], ['ORGANIZATION', '组织']], { id: 'subject-kind' }),
    field('名称', 'displayName', { id: 'subject-name', required: true }),
    field('身份证号（个人）', 'idNumber', { id: 'subject-id-number' }),
    field('统一社会信用代码（组织）', 'creditCode', { id: 'subject-credit-code' }),
    field('初始密码（10 位以上）', 'password', { id: 'subject-password', type: 'password', autocomplete: 'new-password' }),
    h('fieldset', { class: 'wide' }, h('legend', {}, '角色'),
      Object.entries(ROLE).filter(([k]) => k !== 'SERVICE').map(([k, v]) => checkbox(v, `role.${k}`, { id: `subject-role-${k}` }))),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'subject-submit' }, '创建')),
    h('div', { class: 'wide' }, errors));
  keepDraft(form, 'subject');
  const rid = requestId();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button[type=submit]'), errors, async () => {
      const v = values(form);
      const roles = Object.keys(ROLE).filter((k) => v[`role.${k}`]);
      const subject = { kind: v.kind, displayName: v.displayName, roles };
      if (v.idNumber) subject.idNumber = v.idNumber;
      if (v.creditCode) subject.creditCode = v.creditCode;
      const created = await call(svc.identity, 'CreateSubject', { subjectId: v.subjectId, subject, password: v.password,
                                                                    requestId: rid });
      clearDraft('subject');
      if (created.initialApiKey) window.alert(`${created.name} 的 API 密钥（只显示一次）：\n${created.initialApiKey}`);
      await reload();
    });
  });
  const actions = (s) => (s.state === 'ACTIVE'
    ? h('button', { type: 'button', class: 'secondary', onclick: (e) => {
      const reason = window.prompt(`暂停 ${s.name}：请填写理由`);
      if (reason) {
        act(e.currentTarget, errors, async () => {
          await call(svc.identity, 'SuspendSubject', { name: s.name, reason, etag: s.etag, requestId: requestId() });
          await reload();
        });
      }
    } }, '暂停')
    : h('button', { type: 'button', class: 'secondary', onclick: (e) => act(e.currentTarget, errors, async () => {
      await call(svc.identity, 'ReinstateSubject', { name: s.name, etag: s.etag, requestId: requestId() });
      await reload();
    }) }, '恢复'));
  render(main, h('h1', {}, '主体管理'), form,
    h('div', { class: 'card', id: 'subjects' }, table(['主体', '名称', '角色', '状态', ''], (r.subjects || []).map((s) => [
      link(s.name, `credit/${s.name}`), s.displayName, (s.roles || []).map((x) => ROLE[x] || x).join('、'),
      s.state === 'ACTIVE' ? '正常' : `已暂停（${s.suspendReason || ''}）`, actions(s)]))));
}

export async function creditLookupPage(main, rest) {
  const errors = h('div');
  const out = h('div', { id: 'lookup-result' });
  const form = h('form', { class: 'grid card', id: 'lookup-form' },
    field('主体', 'subject', { id: 'lookup-subject', required: true, value: rest || '' }),
    field('查询目的（将记入访问日志）', 'purpose', { id: 'lookup-purpose', required: true, wide: true }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'lookup-submit' }, '查询')),
    h('div', { class: 'wide' }, errors));
  keepDraft(form, 'lookup');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    out.replaceChildren();
    act(form.querySelector('button'), errors, async () => {
      const v = values(form);
      if (!v.purpose) throw new Error('请填写查询目的');
      const subject = subjectName(v.subject);
      const p = await call(svc.credit, 'GetCreditProfile', { name: `${subject}/creditProfile`, purpose: v.purpose });
      render(out, h('div', { class: 'card' },
        h('p', {}, subject, '：', h('span', { class: 'level', id: 'lookup-level' }, label(LEVEL_TEXT, p.level)),
          p.score !== undefined ? h('span', { id: 'lookup-score' }, ` 分数 ${p.score}`) : null),
        table(['序号', '类型', '等级', '发生时间', '事由'], (p.activeRecords || []).map((x) => [
          x.index, x.type, x.tier, time(x.occurredTime), x.reason || '']))));
    });
  });
  render(main, h('h1', {}, '信用查询'), form, out);
}

export async function rulingsPage(main) {
  const errors = h('div');
  const r = await call(svc.warranty, 'ListClaims', { filter: 'state=ESCALATED', pageSize: 200 });
  const reload = () => rulingsPage(main);
  const ruleForm = (c) => {
    const form = h('form', { class: 'grid', dataset: { claim: c.name } },
      select('裁决', 'outcome', [['UPHELD', '支持买家（UPHELD）'], ['DISMISSED', '驳回（DISMISSED）']],
             { id: `rule-outcome-${c.name.split('/').pop()}` }),
      field('理由', 'reason', { required: true, id: `rule-reason-${c.name.split('/').pop()}` }),
      checkbox('无理投诉', 'unfounded'),
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: `rule-submit-${c.name.split('/').pop()}` }, '记录裁决')));
    keepDraft(form, `rule.${c.name}`);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      act(form.querySelector('button'), errors, async () => {
        const v = values(form);
        await call(svc.warranty, 'RuleOnClaim', { name: c.name, outcome: v.outcome, reason: v.reason,
          unfounded: v.outcome === 'DISMISSED' && v.unfounded, etag: c.etag, requestId: requestId() });
        clearDraft(`rule.${c.name}`);
        await reload();
      });
    });
    return form;
  };
  const claims = r.claims || [];
  render(main, h('h1', {}, '待裁决的售后争议'), errors, claims.length ? claims.map((c) => h('div', { class: 'card claim', dataset: { claim: c.name } },
    h('p', {}, h('span', { class: 'mono' }, c.name), ' ', label(CLAIM_STATE, c.state), ' · ', label(CLAIM_KIND, c.kind)),
    h('p', {}, `买家 ${c.buyer}，卖家 ${c.seller}；故障 ${c.faultCode}：${c.faultDescription}`),
    h('p', { class: 'muted' }, `拒绝理由：${c.rejectReason || '—'}；提请理由：${c.escalationReason || '—'}`),
    ruleForm(c))) : h('p', { class: 'muted', id: 'no-rulings' }, '没有待裁决的申请。'));
}

const SANCTIONS = [['COUNTERFEIT_CONFIRMED', '售假（严重）'], ['FRAUD_CONFIRMED', '欺诈（严重）'],
  ['MILEAGE_ROLLBACK_CONFIRMED', '调表（严重）'], ['UNLICENSED_OPERATION', '无证经营（严重）'],
  ['COMMENDATION', '表彰（守信）']];

export async function blacklistPage(main) {
  const list = await call(svc.credit, 'ListBlacklist', { pageSize: 200 });
  const errors = h('div');
  const form = h('form', { class: 'grid card', id: 'decision-form' }, h('h2', { class: 'wide' }, '记录处理决定'),
    field('主体', 'subject', { id: 'decision-subject', required: true }),
    select('类型', 'type', SANCTIONS, { id: 'decision-type' }),
    field('决定书文号', 'document', { id: 'decision-document', required: true }),
    textarea('事由', 'reason', { id: 'decision-reason' }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: 'decision-submit' }, '记录')),
    h('div', { class: 'wide' }, errors));
  keepDraft(form, 'decision');
  const rid = requestId();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      const v = values(form);
      const tier = v.type === 'COMMENDATION' ? 'POSITIVE' : 'SERIOUS';
      await call(svc.credit, 'RecordEvent', { requestId: rid, record: {
        subject: subjectName(v.subject), type: v.type, tier, decisionDocumentNumber: v.document, reason: v.reason,
        occurredTime: new Date().toISOString(), eventId: rid } });
      clearDraft('decision');
      await blacklistPage(main);
    });
  });
  render(main, h('h1', {}, '严重失信名单'), form, h('div', { class: 'card' },
    (list.entries || []).length ? table(['主体', '名称', '原因', '起始', '截止'], list.entries.map((e) => [
      link(e.subject, `credit/${e.subject}`), e.displayName || '', e.reasonType, time(e.since), time(e.until)]))
      : h('p', { class: 'muted' }, '名单为空')));
}

// Appraisal disputes awaiting a ruling: UPHELD overturns the report (credit
// records against the firm and the appraiser), DISMISSED restores it.
export async function appraisalDisputesPage(main) {
  const errors = h('div');
  const r = await call(svc.appraisal, 'ListDisputes', { parent: 'appraisals/-', filter: 'state=OPEN', pageSize: 200 });
  const reload = () => appraisalDisputesPage(main);
  const ruleForm = (d) => {
    const id = d.name.split('/').pop();
    const form = h('form', { class: 'grid', dataset: { dispute: d.name } },
      select('裁决', 'outcome', [['UPHELD', '争议成立，撤销报告（UPHELD）'], ['DISMISSED', '驳回争议（DISMISSED）']],
             { id: `dispute-outcome-${id}` }),
      field('理由', 'reason', { required: true, id: `dispute-reason-${id}` }),
      field('决定书文号（可选）', 'decision', { id: `dispute-decision-${id}` }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: `dispute-submit-${id}` }, '记录裁决')));
    keepDraft(form, `dispute.${d.name}`);
    const rid = requestId();
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      act(form.querySelector('button'), errors, async () => {
        const v = values(form);
        await call(svc.appraisal, 'RuleOnDispute', { name: d.name, outcome: v.outcome, reason: v.reason,
          decisionDocumentNumber: v.decision, etag: d.etag, requestId: rid });
        clearDraft(`dispute.${d.name}`);
        await reload();
      });
    });
    return form;
  };
  const disputes = r.disputes || [];
  render(main, h('h1', {}, '待裁决的鉴定争议'), errors, disputes.length
    ? disputes.map((d) => {
      const appraisal = d.name.split('/disputes/')[0];
      return h('div', { class: 'card dispute', dataset: { dispute: d.name } },
        h('p', {}, h('span', { class: 'mono' }, d.name), ' · 报告 ', link(appraisal, `verify/${appraisal}`)),
        h('p', {}, `提出人 ${d.raiser}（${ROLE[d.raiserRole] || d.raiserRole || '—'}），${time(d.createTime)}`),
        h('p', {}, `理由：${d.reason}`),
        d.counterAppraisal ? h('p', {}, '对照鉴定 ', link(d.counterAppraisal, `verify/${d.counterAppraisal}`)) : null,
        ruleForm(d));
    })
    : h('p', { class: 'muted', id: 'no-disputes' }, '没有待裁决的鉴定争议。'));
}
