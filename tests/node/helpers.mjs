// Shared by the outside-client tests: start a real marketd on kernel-chosen
// ports with a temporary data dir, load the repo's .proto files (and the googleapis
// google.rpc protos from npm) with @grpc/proto-loader, call RPCs with a bearer
// token, and decode the google.rpc.Status carried in grpc-status-details-bin.
// Uses nothing but Node itself, @grpc/grpc-js and @grpc/proto-loader.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

export const source = process.env.MARKET_SOURCE_DIR;
export const marketdBin = process.env.MARKETD_BIN;
assert.ok(source, 'MARKET_SOURCE_DIR is not set');
assert.ok(marketdBin, 'MARKETD_BIN is not set');
const require = createRequire(join(source, 'package.json'));
export const grpc = require('@grpc/grpc-js');
export const protoLoader = require('@grpc/proto-loader');

export const loaderOptions = {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
};

export async function waitFor(predicate, ms, intervalMs = 100) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

// Loads .proto files (paths relative to proto/ or to the npm googleapis
// package) into one grpc-js package object.
export function loadProtos(files) {
  const definition = protoLoader.loadSync(files, {
    ...loaderOptions,
    includeDirs: [join(source, 'proto'), join(source, 'node_modules', 'google-proto-files')],
  });
  return grpc.loadPackageDefinition(definition);
}

// Metadata carrying `authorization: Bearer <token>` (empty without a token).
export function bearer(token) {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

// Calls a unary method; resolves with the response, rejects with the
// grpc-js ServiceError.
export function call(client, method, request, metadata = new grpc.Metadata()) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 60000 },
                   (err, response) => (err ? reject(err) : resolve(response)));
  });
}

// Calls a method that must fail; resolves with the error.
export async function callError(client, method, request, metadata) {
  const err = await call(client, method, request, metadata).then(() => null, (e) => e);
  assert.ok(err, `${method}: expected an error, got a response`);
  return err;
}

// The ports in marketd's {"msg":"serving","grpc_port":…,"http_port":…} log
// line (written once both are bound), or null when it is not there yet.
export function servingPorts(log) {
  for (const line of log.split('\n')) {
    let j;
    try { j = JSON.parse(line); } catch { continue; }
    if (j && j.msg === 'serving' && Number.isInteger(j.grpc_port)) {
      return { grpc: j.grpc_port, http: j.http_port };
    }
  }
  return null;
}

// Starts marketd with a fresh data dir on ports the kernel picks (port 0, read
// back from its "serving" log line: no port is probed and released for
// another process to take) and waits until it serves. Returns { dir, dataDir,
// address, httpPort, bootstrap(), log(), async stop() }.
export async function startMarketd() {
  const dir = mkdtempSync(join(tmpdir(), 'market-node-'));
  const dataDir = join(dir, 'var');
  const out = openSync(join(dir, 'marketd.out'), 'w');
  const err = openSync(join(dir, 'marketd.err'), 'w');
  const child = spawn(marketdBin, ['--data-dir', dataDir, '--listen', '127.0.0.1:0',
                                   '--http-listen', '127.0.0.1:0'],
                      { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  child.on('error', (e) => { exited = { error: e.message }; });
  const bootstrapFile = join(dataDir, 'bootstrap-admin.json');
  const server = {
    dir, dataDir, child,
    address: null,
    httpPort: null,
    bootstrap: () => JSON.parse(readFileSync(bootstrapFile, 'utf8')),
    log: () => {
      try { return readFileSync(join(dir, 'marketd.err'), 'utf8'); } catch { return ''; }
    },
    // SIGTERM, then SIGKILL after 10 s; removes the temporary dir.
    stop: async () => {
      if (exited === null) {
        child.kill('SIGTERM');
        if (!(await waitFor(() => exited !== null, 10000))) child.kill('SIGKILL');
        await waitFor(() => exited !== null, 5000);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // marketd writes the bootstrap file before it binds, and logs "serving"
  // after; a start that fails (e.g. cannot listen) ends the wait at once.
  let ports = null;
  await waitFor(() => {
    ports = servingPorts(server.log());
    return ports !== null || exited !== null;
  }, 60000, 20);
  if (ports === null || exited !== null || !existsSync(bootstrapFile)) {
    const log = server.log();
    await server.stop();
    assert.fail(`marketd is not serving (exit ${JSON.stringify(exited)}):\n${log}`);
  }
  server.address = `127.0.0.1:${ports.grpc}`;
  server.httpPort = ports.http;
  return server;
}

export function waitForReady(client, ms = 30000) {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + ms, (err) => (err ? reject(err) : resolve())));
}

// Decodes grpc-status-details-bin as google.rpc.Status, and each Any detail
// of a known google.rpc type (BadRequest, ErrorInfo, …) into
// { type_url, type, message }. Returns null when the header is absent.
let rpcPackage;
export function statusDetails(err) {
  const values = err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
  if (values.length === 0) return null;
  assert.equal(values.length, 1, 'more than one grpc-status-details-bin value');
  rpcPackage ??= loadProtos(['google/rpc/status.proto', 'google/rpc/error_details.proto']).google.rpc;
  const status = rpcPackage.Status.deserialize(values[0]);
  status.details = status.details.map((any) => {
    const type = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const short = type.startsWith('google.rpc.') ? type.slice('google.rpc.'.length) : null;
    const message = short && rpcPackage[short]?.deserialize
      ? rpcPackage[short].deserialize(any.value) : null;
    return { type_url: any.type_url, type, message };
  });
  return status;
}

// The fields named by the google.rpc.BadRequest detail of an error.
export function badFields(err) {
  const status = statusDetails(err);
  assert.ok(status, 'no grpc-status-details-bin');
  const bad = status.details.find((d) => d.type === 'google.rpc.BadRequest');
  assert.ok(bad, `no google.rpc.BadRequest detail in ${JSON.stringify(status)}`);
  return bad.message.field_violations.map((v) => v.field);
}

// The reason of the google.rpc.ErrorInfo detail of an error, or null.
export function errorReason(err) {
  const status = statusDetails(err);
  const info = status?.details.find((d) => d.type === 'google.rpc.ErrorInfo');
  return info ? info.message.reason : null;
}
