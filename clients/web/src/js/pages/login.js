// Login with a password or an API key (IdentityService.Login), the forced
// first password change (ChangePassword), and the re-login dialog shown over
// the page when a token has expired.
import { call, svc } from '../api.js';
import { session, subjectName } from '../session.js';
import { h, render, act, field } from '../ui.js';

// Logs in with the form's values; returns { token, passwordChangeRequired }.
async function login(v) {
  const request = { subject: subjectName(v.subject) };
  if (v.method === 'apikey') request.apiKey = v.secret; else request.password = v.secret;
  return call(svc.identity, 'Login', request, { auth: false });
}

async function whoAmI(token) {
  const w = await call(svc.identity, 'WhoAmI', {}, { token });
  return { subject: w.subject, roles: w.roles || [], displayName: w.displayName || '',
           tokenExpireTime: w.tokenExpireTime || '' };
}

function loginForm(idPrefix, onDone, presetSubject = '') {
  const errors = h('div');
  const methodSel = h('select', { name: 'method', id: `${idPrefix}-method` },
    h('option', { value: 'password' }, '密码'), h('option', { value: 'apikey' }, 'API 密钥'));
  const form = h('form', { class: 'grid', id: `${idPrefix}-form` },
    h('label', {}, '账号（如 subjects/east-op 或 east-op）',
      h('input', { name: 'subject', id: `${idPrefix}-subject`, required: true, autocomplete: 'username',
                   value: presetSubject })),
    h('label', {}, '登录方式', methodSel),
    h('label', {}, '密码或密钥', h('input', { name: 'secret', id: `${idPrefix}-secret`, type: 'password',
                                            required: true, autocomplete: 'current-password' })),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: `${idPrefix}-submit` }, '登录')),
    h('div', { class: 'wide' }, errors));
  const change = h('div');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const button = form.querySelector('button[type=submit]');
    const v = { subject: form.subject.value, method: form.method.value, secret: form.secret.value };
    act(button, errors, async () => {
      const r = await login(v);
      if (r.passwordChangeRequired) {
        render(change, changePasswordForm(idPrefix, subjectName(v.subject), v.secret, r.accessToken, onDone));
        return;
      }
      session.set(r.accessToken, await whoAmI(r.accessToken));
      onDone();
    });
  });
  return h('div', {}, form, change);
}

function changePasswordForm(idPrefix, subject, oldPassword, token, onDone) {
  const errors = h('div');
  const form = h('form', { class: 'grid', id: `${idPrefix}-change` },
    h('p', { class: 'wide warn' }, '首次登录须先修改密码。'),
    field('新密码（至少 12 位）', 'newPassword', { type: 'password', id: `${idPrefix}-new-password`,
                                            autocomplete: 'new-password', required: true }),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', id: `${idPrefix}-change-submit` }, '修改密码并登录')),
    h('div', { class: 'wide' }, errors));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('button'), errors, async () => {
      const r = await call(svc.identity, 'ChangePassword',
                           { name: subject, oldPassword, newPassword: form.newPassword.value }, { token });
      session.set(r.accessToken, await whoAmI(r.accessToken));
      onDone();
    });
  });
  return form;
}

export async function loginPage(main, rest) {
  const next = rest ? decodeURIComponent(rest) : '';
  const done = () => {
    const roles = session.who.roles || [];
    let home = 'search';
    if (roles.includes('SUPERVISOR')) home = 'sup/subjects';
    else if (roles.includes('OPERATOR')) home = 'org/markets';
    else if (roles.includes('SELLER') || roles.includes('BUYER')) home = 'my/orders';
    location.hash = `#/${next || home}`;
  };
  render(main, h('h1', {}, '登录'), h('div', { class: 'card' }, loginForm('login', done)),
         h('p', { class: 'muted' }, '登录令牌只保存在本标签页（sessionStorage），关闭标签页即失效。'));
}

// Opens the re-login dialog; resolves when logged in again. The page under
// it, and everything typed there, is untouched.
export function reloginDialog(err) {
  const modal = document.getElementById('relogin');
  const who = session.who;
  return new Promise((resolve, reject) => {
    const cancel = h('button', { type: 'button', class: 'secondary', id: 'relogin-cancel', onclick: () => {
      modal.hidden = true; reject(err);
    } }, '取消');
    render(modal, h('div', { class: 'card', role: 'dialog', 'aria-modal': 'true', id: 'relogin-dialog' },
      h('h2', {}, '登录已过期'),
      h('p', {}, '请重新登录以继续；您在页面上填写的内容不会丢失，登录后操作会自动继续。'),
      loginForm('relogin', () => { modal.hidden = true; resolve(); }, who ? who.subject : ''),
      cancel));
    modal.hidden = false;
    modal.querySelector('#relogin-secret').focus();
  });
}
