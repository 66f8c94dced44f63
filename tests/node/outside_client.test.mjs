// An outside client that shares no code with ours: @grpc/grpc-js and
// @grpc/proto-loader load the repo's .proto files at run time, log in with the
// bootstrap credentials of a freshly started marketd and call WhoAmI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';

const source = process.env.MARKET_SOURCE_DIR;
const marketdBin = process.env.MARKETD_BIN;
const require = createRequire(join(source, 'package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(predicate, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function call(client, method, request, metadata = new grpc.Metadata()) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

let dir, child, client;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'market-node-'));
  const port = await freePort();
  const httpPort = await freePort();
  child = spawn(marketdBin, ['--data-dir', join(dir, 'var'), '--listen', `127.0.0.1:${port}`,
                             '--http-listen', `127.0.0.1:${httpPort}`],
                { stdio: ['ignore', 'ignore', 'ignore'] });
  const bootstrap = join(dir, 'var', 'bootstrap-admin.json');
  assert.ok(await waitFor(() => existsSync(bootstrap), 30000), 'marketd wrote no bootstrap file');
  const definition = protoLoader.loadSync('market/identity/v1/identity.proto', {
    includeDirs: [join(source, 'proto')],
    keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition);
  client = new pkg.market.identity.v1.IdentityService(`127.0.0.1:${port}`,
                                                      grpc.credentials.createInsecure());
  await new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + 30000, (err) => (err ? reject(err) : resolve())));
});

after(() => {
  if (client) client.close();
  if (child) child.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('logs in with the bootstrap credentials and calls WhoAmI', async () => {
  const creds = JSON.parse(readFileSync(join(dir, 'var', 'bootstrap-admin.json'), 'utf8'));
  const login = await call(client, 'Login', { subject: creds.subject, password: creds.password });
  assert.match(login.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${login.access_token}`);
  const who = await call(client, 'WhoAmI', {}, md);
  assert.equal(who.subject, creds.subject);
  assert.deepEqual(who.roles, ['SUPERVISOR']);
});

test('a wrong password is UNAUTHENTICATED', async () => {
  await assert.rejects(call(client, 'Login', { subject: 'subjects/supervisor', password: 'nope-nope-nope' }),
                       (err) => err.code === grpc.status.UNAUTHENTICATED);
});

test('invalid input names the field in google.rpc.BadRequest details', async () => {
  const err = await call(client, 'CreateSubject', {
    subject: { kind: 'PERSON', roles: ['BUYER'], display_name: '' }, password: 'long-enough-pass',
  }).then(() => null, (e) => e);
  assert.ok(err, 'expected an error');
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  const details = err.metadata.get('grpc-status-details-bin');
  assert.equal(details.length, 1);
  assert.ok(details[0].toString('latin1').includes('subject.display_name'));
});
