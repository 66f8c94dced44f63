// An appraisal report in the browser: AppraisalContent given as proto JSON
// (the same report.json `marketctl appraisal file` reads) serialized to the
// protobuf wire format exactly as marketctl's content.SerializeAsString()
// does (fields in number order, proto3 defaults left out, `optional` and
// message fields written when present), then signed with the firm's Ed25519
// private key by WebCrypto. The key never leaves the page.

// [number, json name, type, 'repeated' | 'optional' | undefined]
const SCHEMA = {
  AppraisalContent: [
    [1, 'reportNumber', 'string'], [2, 'firm', 'string'], [3, 'firmCreditCode', 'string'],
    [4, 'appraiser', 'string'], [5, 'appraiserQualificationNumber', 'string'], [6, 'listing', 'string'],
    [7, 'category', 'enum:Category'], [8, 'identifiers', 'ItemIdentifiers'],
    [9, 'inspectionItems', 'InspectionItem', 'repeated'], [10, 'score', 'int32', 'optional'],
    [11, 'grades', 'GradeRef', 'repeated'], [12, 'disclosedDefects', 'string', 'repeated'],
    [13, 'appraisedValueMin', 'Money'], [14, 'appraisedValueMax', 'Money'],
    [15, 'mileageKm', 'int64', 'optional'], [16, 'tradabilityChecks', 'TradabilityChecks'],
    [17, 'structuralPoints', 'StructuralPoint', 'repeated'], [18, 'accidentFound', 'bool'],
    [19, 'floodFound', 'bool'], [20, 'fireFound', 'bool'], [21, 'findingsNote', 'string'],
    [22, 'inspectedTime', 'Timestamp'], [23, 'validUntil', 'Timestamp'],
  ],
  ItemIdentifiers: [[1, 'imei', 'string'], [2, 'imei2', 'string'], [3, 'vin', 'string'],
    [4, 'engineNumber', 'string'], [5, 'brand', 'string'], [6, 'model', 'string'], [7, 'serialNumber', 'string']],
  InspectionItem: [[1, 'code', 'string'], [2, 'result', 'enum:Result'], [3, 'defectCode', 'string'],
    [4, 'degree', 'int32'], [5, 'photoSha256', 'string', 'repeated'], [6, 'note', 'string']],
  TradabilityChecks: [[1, 'scrapped', 'bool'], [2, 'mortgagedOrCustomsSupervised', 'bool'], [3, 'seized', 'bool'],
    [4, 'stolen', 'bool'], [5, 'engineNumberMismatch', 'bool'], [6, 'vinMismatch', 'bool'],
    [7, 'smuggledOrIllegallyAssembled', 'bool'], [8, 'otherwiseProhibited', 'bool']],
  StructuralPoint: [[1, 'point', 'enum:Point'], [2, 'defectCodes', 'string', 'repeated'],
    [3, 'photoSha256', 'string', 'repeated']],
  GradeRef: [[1, 'scheme', 'string'], [2, 'version', 'int32'], [3, 'level', 'string']],
  Money: [[1, 'amountFen', 'int64'], [2, 'currency', 'string']],
  Timestamp: [[1, 'seconds', 'int64'], [2, 'nanos', 'int32']],
};

const ENUMS = {
  Category: ['CATEGORY_UNSPECIFIED', 'PHONE', 'APPLIANCE', 'FURNITURE', 'VEHICLE'],
  Result: ['RESULT_UNSPECIFIED', 'NORMAL', 'DEFECT', 'NOT_INSPECTED'],
  Point: ['POINT_UNSPECIFIED', 'BODY_SYMMETRY', 'A_PILLAR_LEFT', 'A_PILLAR_RIGHT', 'B_PILLAR_LEFT',
    'B_PILLAR_RIGHT', 'C_PILLAR_LEFT', 'C_PILLAR_RIGHT', 'FRONT_RAIL_LEFT', 'FRONT_RAIL_RIGHT',
    'SHOCK_TOWER_FRONT_LEFT', 'SHOCK_TOWER_FRONT_RIGHT', 'SHOCK_TOWER_REAR_LEFT', 'SHOCK_TOWER_REAR_RIGHT'],
};

// "report_number" → "reportNumber" (proto JSON accepts both spellings).
const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

class Writer {
  constructor() { this.bytes = []; }
  varint(value) {  // value: BigInt, negative ones as 64-bit two's complement
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) { this.bytes.push(Number((v & 0x7fn) | 0x80n)); v >>= 7n; }
    this.bytes.push(Number(v));
  }
  tag(number, wireType) { this.varint(BigInt((number << 3) | wireType)); }
  lengthDelimited(number, data) { this.tag(number, 2); this.varint(BigInt(data.length)); this.bytes.push(...data); }
}

function integer(value, path, bits) {
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw new Error(`${path}：不是整数`);
  const n = BigInt(text);
  const limit = 1n << BigInt(bits - 1);
  if (n < -limit || n >= limit) throw new Error(`${path}：超出范围`);
  return n;
}

// RFC 3339 → {seconds: BigInt, nanos: number}.
function timestamp(value, path) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i.exec(String(value));
  const ms = m ? Date.parse(`${m[1]}${m[3].toUpperCase()}`) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${path}：需要 RFC 3339 时间，如 2026-11-02T10:00:00+08:00`);
  return { seconds: BigInt(ms / 1000), nanos: m[2] ? Number(m[2].slice(1).padEnd(9, '0')) : 0 };
}

function encodeMessage(type, json, path) {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${path}：需要对象`);
  const fields = SCHEMA[type];
  const given = {};
  for (const [key, value] of Object.entries(json)) {
    const name = camel(key);
    if (!fields.some((f) => f[1] === name)) throw new Error(`${path}.${key}：未知字段`);
    if (value !== null) given[name] = value;
  }
  const w = new Writer();
  for (const [number, name, ftype, label] of fields) {
    if (!(name in given)) continue;
    const fpath = `${path}.${name}`;
    const list = label === 'repeated' ? given[name] : [given[name]];
    if (!Array.isArray(list)) throw new Error(`${fpath}：需要数组`);
    list.forEach((value, i) => {
      const p = label === 'repeated' ? `${fpath}[${i}]` : fpath;
      writeField(w, number, ftype, value, p, label === 'repeated' || label === 'optional');
    });
  }
  return w.bytes;
}

// Writes one value; `always` (repeated or optional) writes a default value too.
function writeField(w, number, type, value, path, always) {
  if (type === 'string') {
    if (typeof value !== 'string') throw new Error(`${path}：需要字符串`);
    if (value === '' && !always) return;
    w.lengthDelimited(number, [...new TextEncoder().encode(value)]);
  } else if (type === 'bool') {
    if (typeof value !== 'boolean') throw new Error(`${path}：需要 true 或 false`);
    if (!value && !always) return;
    w.tag(number, 0); w.varint(value ? 1n : 0n);
  } else if (type === 'int32' || type === 'int64') {
    const n = integer(value, path, type === 'int32' ? 32 : 64);
    if (n === 0n && !always) return;
    w.tag(number, 0); w.varint(n);
  } else if (type.startsWith('enum:')) {
    const names = ENUMS[type.slice(5)];
    const n = typeof value === 'number' ? value : names.indexOf(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${path}：应为 ${names.slice(1).join('、')} 之一`);
    if (n === 0 && !always) return;
    w.tag(number, 0); w.varint(BigInt(n));
  } else if (type === 'Timestamp') {
    const t = timestamp(value, path);
    w.lengthDelimited(number, encodeMessage('Timestamp', { seconds: String(t.seconds), nanos: t.nanos }, path));
  } else {
    w.lengthDelimited(number, encodeMessage(type, value, path));
  }
}

// AppraisalContent proto JSON (text) → Uint8Array of its wire encoding.
export function serializeContent(text) {
  let json;
  try { json = JSON.parse(text); } catch (e) { throw new Error(`报告内容不是有效的 JSON：${e.message}`); }
  return new Uint8Array(encodeMessage('AppraisalContent', json, 'content'));
}

export function toBase64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
export function fromBase64(text) {
  return Uint8Array.from(atob(String(text).replace(/[-_]/g, (c) => (c === '-' ? '+' : '/'))), (c) => c.charCodeAt(0));
}
export async function sha256Hex(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The certificate's verify URL served by marketd (a certificate's QR code
// carries it): /verify?report=NAME&sha256=HEX of the signed bytes (base64).
export async function certificateUrl(name, signedContent) {
  const hex = await sha256Hex(fromBase64(signedContent));
  return `/verify?report=${encodeURIComponent(name)}&sha256=${hex}`;
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 private key (RFC 8410).
const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

// The private key as the PKCS#8 PEM `marketctl appraisal keygen` writes, or
// its 32 raw bytes as 64 hex digits → a WebCrypto signing key.
export async function importPrivateKey(text) {
  const s = String(text || '').trim();
  let der;
  if (/^[0-9a-f]{64}$/i.test(s)) {
    der = new Uint8Array([...PKCS8_PREFIX, ...s.match(/../g).map((x) => parseInt(x, 16))]);
  } else if (/-----BEGIN PRIVATE KEY-----/.test(s)) {
    const body = s.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
    try { der = fromBase64(body); } catch { throw new Error('私钥 PEM 内容损坏'); }
  } else {
    throw new Error('私钥应为 PKCS#8 PEM（-----BEGIN PRIVATE KEY-----）或 64 位十六进制');
  }
  try {
    return await crypto.subtle.importKey('pkcs8', der, { name: 'Ed25519' }, true, ['sign']);
  } catch (e) {
    throw new Error(`无法读取 Ed25519 私钥（${e.message || e.name}）`);
  }
}

// The raw public key (bytes) of a WebCrypto Ed25519 private key.
export async function publicKeyOf(privateKey) {
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  return fromBase64(jwk.x);
}

export async function sign(privateKey, bytes) {
  return new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, privateKey, bytes));
}
