// The console's shell: hash routes, role-aware navigation, the signed-in
// subject, and the re-login dialog used when a token expires mid-task.
import { session } from './session.js';
import { h, render, banner, ROLE } from './ui.js';
import { loginPage, reloginDialog } from './pages/login.js';
import { searchPage, listingPage, creditPage, listsPage, verifyAppraisalPage } from './pages/public.js';
import { ledgerPage } from './pages/ledger.js';
import { marketsPage, marketPage, marketOrdersPage } from './pages/organizer.js';
import { myListingsPage, myOrdersPage, myClaimsPage } from './pages/mine.js';
import { subjectsPage, creditLookupPage, rulingsPage, blacklistPage, appraisalDisputesPage } from './pages/supervisor.js';
import { firmPage, fileReportPage } from './pages/firm.js';
import { statsPage } from './pages/stats.js';

// [hash prefix, page(main, rest), roles that see it in the menu (none = everyone), menu text]
const ROUTES = [
  ['search', searchPage, null, '商品搜索'],
  ['listing', listingPage],
  ['credit', creditPage, null, '信用公示'],
  ['lists', listsPage, null, '红黑名单'],
  ['ledger', ledgerPage, null, '账本验证'],
  ['verify', verifyAppraisalPage, null, '鉴定验证'],
  ['login', loginPage],
  ['org/markets', marketsPage, ['OPERATOR'], '我的市场'],
  ['org/market', marketPage],
  ['org/orders', marketOrdersPage, ['OPERATOR'], '市场订单'],
  ['my/listings', myListingsPage, ['SELLER'], '我的商品'],
  ['my/orders', myOrdersPage, ['BUYER', 'SELLER'], '我的订单'],
  ['my/claims', myClaimsPage, ['BUYER', 'SELLER'], '售后申请'],
  ['sup/subjects', subjectsPage, ['SUPERVISOR'], '主体管理'],
  ['sup/credit', creditLookupPage, ['SUPERVISOR'], '信用查询'],
  ['sup/rulings', rulingsPage, ['SUPERVISOR'], '待裁决'],
  ['sup/blacklist', blacklistPage, ['SUPERVISOR'], '黑名单'],
  ['sup/disputes', appraisalDisputesPage, ['SUPERVISOR'], '鉴定争议'],
  ['firm/reports', firmPage, ['APPRAISAL_FIRM', 'APPRAISER'], '鉴定机构'],
  ['firm/file', fileReportPage, ['APPRAISAL_FIRM', 'APPRAISER'], '提交报告'],
  ['stats', statsPage, ['SUPERVISOR', 'OPERATOR'], '统计台账'],
];

function currentHash() { return decodeURIComponent(location.hash.replace(/^#\/?/, '')); }

function drawNav() {
  const nav = document.getElementById('nav');
  const here = currentHash();
  const links = ROUTES.filter(([, , roles, text]) => text && (!roles || roles.some((r) => session.hasRole(r))))
    .map(([path, , , text]) => h('a', { href: `#/${path}`, class: here.startsWith(path) ? 'current' : undefined },
                                     text));
  render(nav, links);
  const who = session.who;
  const whoEl = document.getElementById('who');
  if (who) {
    render(whoEl, h('span', { id: 'who-name' }, `${who.displayName || who.subject}（${(who.roles || []).map((r) => ROLE[r] || r).join('、')}）`),
           h('button', { type: 'button', class: 'secondary', id: 'logout', onclick: () => {
             session.clear(); location.hash = '#/login';
           } }, '退出'));
  } else {
    render(whoEl, h('a', { href: '#/login', id: 'login-link' }, '登录'));
  }
}

async function route() {
  const main = document.getElementById('main');
  const hash = currentHash() || 'search';
  const found = ROUTES.filter(([path]) => hash === path || hash.startsWith(`${path}/`))
    .sort((a, b) => b[0].length - a[0].length)[0];
  drawNav();
  document.getElementById('nav').classList.remove('open');
  if (!found) { render(main, h('h1', {}, '页面不存在'), h('a', { href: '#/search' }, '返回首页')); return; }
  const [path, page, roles] = found;
  if (roles && !session.token) { location.hash = `#/login/${encodeURIComponent(hash)}`; return; }
  const rest = hash.slice(path.length + 1);
  render(main, h('p', { class: 'muted' }, '加载中…'));
  try {
    await page(main, rest);
  } catch (err) {
    const { errorBox } = await import('./ui.js');
    render(main, h('h1', {}, '无法加载此页面'), errorBox(err),
           h('button', { type: 'button', onclick: route }, '重试'));
  }
}

session.reloginDialog = reloginDialog;
session.onChange(drawNav);
window.addEventListener('hashchange', () => { banner(''); route(); });
document.getElementById('menu-toggle').addEventListener('click', (e) => {
  const nav = document.getElementById('nav');
  nav.classList.toggle('open');
  e.currentTarget.setAttribute('aria-expanded', String(nav.classList.contains('open')));
});
route();
