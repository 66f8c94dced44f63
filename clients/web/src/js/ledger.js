// The credit ledger verified in the browser, trusting nothing the server says:
// the checkpoint (a C2SP signed note) is checked with WebCrypto Ed25519 against
// a public key pinned in this browser; the hashes come from the C2SP
// tlog-tiles on the same port (/tile/…), and each shown record's inclusion
// proof is built from them and checked with SHA-256 (RFC 6962/9162: leaf hash
// SHA-256(0x00 ‖ leaf), node hash SHA-256(0x01 ‖ left ‖ right)) against the
// signed root. Leaves are v2 commitments (docs/ledger-leaf-v2.md).
const enc = new TextEncoder();

export class VerificationError extends Error {}

export function hexToBytes(hex) {
  const s = String(hex || '').trim().toLowerCase();
  if (!/^([0-9a-f]{2})+$/.test(s)) throw new VerificationError('公钥必须是十六进制');
  return Uint8Array.from(s.match(/../g).map((b) => parseInt(b, 16)));
}
export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
export function base64ToBytes(b64) {
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
export function bytesToBase64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}
export const leafHash = (leaf) => sha256(concat(Uint8Array.of(0), leaf));
export const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

// The C2SP signed-note key id: SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[0:4].
export async function noteKeyId(name, publicKey) {
  return (await sha256(concat(enc.encode(`${name}\n`), Uint8Array.of(1), publicKey))).slice(0, 4);
}

// Parses a checkpoint note and checks a signature line by `publicKey` (32
// raw bytes). Returns { origin, size, root (bytes), keyName }; throws
// VerificationError when malformed or when no line by that key verifies.
export async function openCheckpoint(note, publicKey) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new VerificationError('检查点格式错误：没有签名');
  const text = note.slice(0, split + 1);
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '') throw new VerificationError('检查点格式错误');
  const [origin, sizeText, rootB64] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new VerificationError('检查点大小格式错误');
  const root = base64ToBytes(rootB64);
  if (root.length !== 32) throw new VerificationError('检查点根哈希格式错误');
  const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  for (const line of note.slice(split + 2).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) continue;
    const sig = base64ToBytes(m[2]);
    if (sig.length !== 68) continue;
    if (!equal(sig.slice(0, 4), await noteKeyId(m[1], publicKey))) continue;
    if (await crypto.subtle.verify({ name: 'Ed25519' }, key, sig.slice(4), enc.encode(text))) {
      return { origin, size: Number(sizeText), root, keyName: m[1] };
    }
    throw new VerificationError('检查点签名无效');
  }
  throw new VerificationError('检查点不是由固定的公钥签名的');
}

// "tile/L/N[.p/W]" with N in 3-digit groups ("x001/234").
export function tilePath(level, n, width) {
  let digits = String(n);
  while (digits.length % 3) digits = `0${digits}`;
  const groups = digits.match(/.../g);
  const path = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return `tile/${level}/${path}${width < 256 ? `.p/${width}` : ''}`;
}

// Reads tiles of a tree of `size` leaves from `base` ("" = this origin).
export class TileReader {
  constructor(size, fetchBytes) {
    this.size = size;
    this.fetchBytes = fetchBytes;  // path → Uint8Array (throws on HTTP errors)
    this.cache = new Map();
  }
  async tile(level, n, width) {
    const path = tilePath(level, n, width);
    if (!this.cache.has(path)) this.cache.set(path, this.fetchBytes(`/${path}`));
    return this.cache.get(path);
  }
  // Hash of the complete subtree of height `height` whose leftmost leaf is
  // index << height.
  async subtree(height, index) {
    const tileLevel = Math.floor(height / 8);
    const inner = height % 8;
    const count = Math.floor(this.size / 2 ** (8 * tileLevel));  // hashes at level 8·tileLevel
    const first = index * 2 ** inner;
    const n = Math.floor(first / 256);
    const width = Math.min(256, count - n * 256);
    const data = await this.tile(tileLevel, n, width);
    if (data.length !== width * 32) throw new VerificationError(`瓦片 ${tilePath(tileLevel, n, width)} 长度错误`);
    let level = [];
    for (let i = 0; i < 2 ** inner; i++) {
      const at = (first - n * 256 + i) * 32;
      level.push(data.slice(at, at + 32));
    }
    while (level.length > 1) {
      const up = [];
      for (let i = 0; i < level.length; i += 2) up.push(await nodeHash(level[i], level[i + 1]));
      level = up;
    }
    return level[0];
  }
  // MTH(D[lo:hi]) of RFC 6962 from complete subtrees.
  async range(lo, hi) {
    const n = hi - lo;
    if ((n & (n - 1)) === 0 && lo % n === 0) return this.subtree(Math.log2(n), lo / n);
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(await this.range(lo, lo + k), await this.range(lo + k, hi));
  }
  // PATH(m, D[lo:hi]) of RFC 6962: the inclusion proof of leaf m.
  async inclusionProof(m, lo = 0, hi = this.size) {
    const n = hi - lo;
    if (n <= 1) return [];
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (m - lo < k) return [...await this.inclusionProof(m, lo, lo + k), await this.range(lo + k, hi)];
    return [...await this.inclusionProof(m, lo + k, hi), await this.range(lo, lo + k)];
  }
  // The leaf bytes of entry `index` from its entry bundle.
  async leaf(index) {
    const n = Math.floor(index / 256);
    const width = Math.min(256, this.size - n * 256);
    const path = tilePath('entries', n, width);
    if (!this.cache.has(path)) this.cache.set(path, this.fetchBytes(`/${path}`));
    const bundle = await this.cache.get(path);
    let at = 0;
    for (let i = 0; i < width; i++) {
      if (at + 2 > bundle.length) throw new VerificationError('条目包被截断');
      const len = (bundle[at] << 8) | bundle[at + 1];
      if (i === index % 256) return bundle.slice(at + 2, at + 2 + len);
      at += 2 + len;
    }
    throw new VerificationError('条目包被截断');
  }
}

// RFC 9162 §2.1.3.2: does `proof` lead from leaf hash `leaf` at `index` to `root`?
export async function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

// Whether the leaf (commitment ‖ public view) commits to `content` under `salt`.
export async function opensLeaf(leaf, salt, content) {
  const c = await sha256(concat(enc.encode('market-credit-record/v2'), Uint8Array.of(0), salt, content));
  return equal(c, leaf.slice(0, 32));
}

// A minimal protobuf reader for the Record fields shown (the public view and
// the content are deterministic serializations of market.credit.v1.Record).
const TIERS = ['TIER_UNSPECIFIED', 'POSITIVE', 'MINOR', 'GENERAL', 'SERIOUS'];
const TYPES = ['TYPE_UNSPECIFIED', 'TRADE_COMPLETED', 'CLAIM_RESOLVED_ON_TIME', 'CLAIM_UPHELD',
  'CLAIM_REPLY_MISSED', 'CLAIM_UNFOUNDED', 'APPRAISAL_OVERTURNED', 'LISTING_REMOVED',
  'COUNTERFEIT_CONFIRMED', 'FRAUD_CONFIRMED', 'MILEAGE_ROLLBACK_CONFIRMED', 'UNLICENSED_OPERATION',
  'COMMENDATION', 'SANCTION_OTHER', 'CREDIT_REPAIRED', 'RECORD_EXPIRED', 'RECORD_WITHDRAWN'];

function readFields(bytes) {
  const fields = new Map();
  let at = 0;
  const varint = () => {
    let v = 0n; let shift = 0n;
    for (;;) {
      if (at >= bytes.length) throw new VerificationError('记录编码错误');
      const b = bytes[at++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const field = tag >> 3;
    let value;
    switch (tag & 7) {
      case 0: value = varint(); break;
      case 2: { const len = Number(varint()); value = bytes.slice(at, at + len); at += len; break; }
      case 1: at += 8; continue;
      case 5: at += 4; continue;
      default: throw new VerificationError('记录编码错误');
    }
    fields.set(field, value);
  }
  return fields;
}

// Record bytes → { index, subject, tier, type, occurredTime, reason }.
export function decodeRecord(bytes) {
  const f = readFields(bytes);
  const dec = new TextDecoder();
  const ts = f.get(12) ? readFields(f.get(12)) : null;
  return {
    index: f.has(2) ? Number(f.get(2)) : 0,
    subject: f.has(3) ? dec.decode(f.get(3)) : '',
    type: f.has(5) ? TYPES[Number(f.get(5))] || String(f.get(5)) : '',
    tier: f.has(6) ? TIERS[Number(f.get(6))] || String(f.get(6)) : '',
    reason: f.has(11) ? dec.decode(f.get(11)) : '',
    occurredTime: ts ? new Date(Number(ts.get(1) || 0n) * 1000).toISOString() : '',
  };
}

// Verifies entry `index` of the signed tree: its leaf from the entry bundle,
// the inclusion proof built from the tiles, and (when given) that the leaf
// commits to `opening` = { salt, content }. Returns the decoded record shown.
export async function verifyEntry(reader, checkpoint, index, opening) {
  const leaf = await reader.leaf(index);
  const proof = await reader.inclusionProof(index);
  if (!await verifyInclusion(index, checkpoint.size, await leafHash(leaf), proof, checkpoint.root)) {
    throw new VerificationError(`记录 #${index} 的包含证明与签名的根哈希不符`);
  }
  if (opening) {
    if (!await opensLeaf(leaf, opening.salt, opening.content)) {
      throw new VerificationError(`记录 #${index} 的内容与账本中的承诺不符`);
    }
    return { ...decodeRecord(opening.content), index, proofLength: proof.length, opened: true };
  }
  return { ...decodeRecord(leaf.slice(32)), index, proofLength: proof.length, opened: false };
}
