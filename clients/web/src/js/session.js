// Who is signed in: the access token lives in sessionStorage only (this tab,
// gone when it closes; never a cookie, never localStorage). When a call meets
// UNAUTHENTICATED (expired or revoked token) the login dialog opens over the
// page, so the form being filled stays as it is, and the call is retried.
const TOKEN_KEY = 'market.console.token';
const WHO_KEY = 'market.console.who';

const listeners = new Set();
let relogin = null;  // the pending re-login, shared by concurrent calls

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ''; },
  // { subject, roles: ["SUPERVISOR", …], displayName, tokenExpireTime } or null.
  get who() {
    try { return JSON.parse(sessionStorage.getItem(WHO_KEY) || 'null'); } catch { return null; }
  },
  hasRole(role) { const w = this.who; return !!w && (w.roles || []).includes(role); },
  set(token, who) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(WHO_KEY, JSON.stringify(who));
    listeners.forEach((f) => f());
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WHO_KEY);
    listeners.forEach((f) => f());
  },
  onChange(f) { listeners.add(f); },
  // Set by the app: shows the login dialog and resolves when logged in again.
  reloginDialog: null,
  reauthenticate(err) {
    if (!this.reloginDialog) return Promise.reject(err);
    if (!relogin) {
      relogin = this.reloginDialog(err).finally(() => { relogin = null; });
    }
    return relogin;
  },
};

// "li" → "subjects/li"; a full name is kept.
export function subjectName(input) {
  const s = String(input || '').trim();
  return s.includes('/') ? s : `subjects/${s}`;
}
