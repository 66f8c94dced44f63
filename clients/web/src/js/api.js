// The HTTP/JSON API (Connect unary JSON on marketd's HTTP port):
// POST /{package}.{Service}/{Method} with the request as protobuf canonical JSON,
// `Authorization: Bearer TOKEN`; errors are google.rpc.Status JSON with the
// grpc-gateway HTTP status. Every failure becomes an ApiError with a readable
// Chinese message; UNAUTHENTICATED on a signed-in call asks the session to log
// in again (without leaving the page) and retries once.
import { session } from './session.js';

export const CODE_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED',
  'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION',
  'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED'];

const CODE_TEXT = {
  INVALID_ARGUMENT: '输入有误', NOT_FOUND: '未找到', ALREADY_EXISTS: '已存在',
  PERMISSION_DENIED: '无权限执行此操作', RESOURCE_EXHAUSTED: '请求过于频繁，请稍后再试',
  FAILED_PRECONDITION: '当前状态不允许此操作', ABORTED: '数据已被他人修改，请刷新后重试',
  UNAVAILABLE: '服务器暂时不可用（可能正在重启），请稍后重试', UNAUTHENTICATED: '登录已失效，请重新登录',
  DEADLINE_EXCEEDED: '请求超时，请重试', INTERNAL: '服务器内部错误', UNIMPLEMENTED: '服务器不支持此操作',
  DATA_LOSS: '服务器数据损坏',
};

export class ApiError extends Error {
  constructor(code, message, details = [], httpStatus = 0) {
    super(message);
    this.code = code;            // gRPC code name, e.g. "INVALID_ARGUMENT"
    this.details = details;      // google.rpc.Status details (canonical JSON Any)
    this.httpStatus = httpStatus;
  }
  // google.rpc.BadRequest field violations: [{field, description}].
  get fieldViolations() {
    return this.details.filter((d) => String(d['@type'] || '').endsWith('google.rpc.BadRequest'))
      .flatMap((d) => d.fieldViolations || []);
  }
  get reason() {
    const info = this.details.find((d) => String(d['@type'] || '').endsWith('google.rpc.ErrorInfo'));
    return info ? info.reason : '';
  }
  // A sentence for the page: what kind of failure, then the server's words.
  get readable() {
    const head = CODE_TEXT[this.code] || '请求失败';
    if (this.code === 'UNAVAILABLE' || !this.message) return head;
    return `${head}：${this.message}`;
  }
}

const HTTP_TO_CODE = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND', 409: 'ABORTED', 429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };

async function errorFrom(response) {
  let status = null;
  try { status = await response.json(); } catch { /* not JSON: a proxy or a restarting server */ }
  let code = HTTP_TO_CODE[response.status] || 'UNKNOWN';
  if (status && typeof status.code === 'number' && CODE_NAMES[status.code]) code = CODE_NAMES[status.code];
  else if (status && typeof status.code === 'string') code = status.code.toUpperCase();
  return new ApiError(code, status && status.message ? status.message : '', (status && status.details) || [],
                      response.status);
}

// fetch() that turns a refused connection into UNAVAILABLE.
export async function send(path, init) {
  try {
    return await fetch(path, { cache: 'no-store', credentials: 'omit', ...init });
  } catch (e) {
    throw new ApiError('UNAVAILABLE', '', [], 0);
  }
}

function headers(token, contentType) {
  const h = { 'Content-Type': contentType };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

// Calls `service` ("market.listing.v1.ListingService") `method` with `request`.
// options.auth === false sends no token; options.token sends that token. In
// both cases an UNAUTHENTICATED answer is returned, not turned into a re-login.
export async function call(service, method, request = {}, options = {}) {
  const useAuth = options.auth !== false && options.token === undefined;
  for (let attempt = 0; ; attempt++) {
    const token = options.token !== undefined ? options.token : (useAuth ? session.token : '');
    const response = await send(`/${service}/${method}`, {
      method: 'POST', headers: headers(token, 'application/json'), body: JSON.stringify(request),
    });
    if (response.ok) return response.json();
    const err = await errorFrom(response);
    if (err.code === 'UNAUTHENTICATED' && useAuth && token && attempt === 0) {
      await session.reauthenticate(err);  // resolves once logged in again
      continue;
    }
    throw err;
  }
}

// Uploads an image file (a File/Blob) as the raw request body of the
// client-streaming UploadPhoto (the gateway takes the first message's fields
// from the query); with `listing` the photo is added to it. Returns the Photo.
export async function uploadPhoto(file, listing = '') {
  const query = listing ? `?listing=${encodeURIComponent(listing)}` : '';
  for (let attempt = 0; ; attempt++) {
    const token = session.token;
    const response = await send(`/${svc.listing}/UploadPhoto${query}`, {
      method: 'POST', headers: headers(token, file.type || 'application/octet-stream'), body: file,
    });
    if (response.ok) return response.json();
    const err = await errorFrom(response);
    if (err.code === 'UNAUTHENTICATED' && token && attempt === 0) {
      await session.reauthenticate(err);
      continue;
    }
    throw err;
  }
}

// GETs `path` (e.g. a /stats/export/… download) with the session's token;
// resolves with { blob, filename } (from Content-Disposition). Errors as call().
export async function download(path) {
  for (let attempt = 0; ; attempt++) {
    const token = session.token;
    const response = await send(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    if (response.ok) {
      const m = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
      return { blob: await response.blob(), filename: m ? m[1] : path.split('/').pop().split('?')[0] };
    }
    const err = await errorFrom(response);
    if (err.code === 'UNAUTHENTICATED' && token && attempt === 0) {
      await session.reauthenticate(err);
      continue;
    }
    throw err;
  }
}

export const svc = {
  identity: 'market.identity.v1.IdentityService',
  market: 'market.listing.v1.MarketService',
  listing: 'market.listing.v1.ListingService',
  order: 'market.listing.v1.OrderService',
  item: 'market.listing.v1.ItemService',
  credit: 'market.credit.v1.CreditService',
  ledger: 'market.credit.v1.LedgerService',
  appraisal: 'market.appraisal.v1.AppraisalService',
  warranty: 'market.warranty.v1.WarrantyService',
  stats: 'market.stats.v1.StatisticsService',
};

// A random idempotency key for one user action (kept across its retries).
export function requestId() {
  return crypto.randomUUID();
}

// The URL of a listing's i-th photo: the one the API gives (photo_urls), else
// the content address on this port.
export function photoUrl(listing, i = 0) {
  return (listing.photoUrls || [])[i] || `/photos/${listing.photos[i].sha256}`;
}
