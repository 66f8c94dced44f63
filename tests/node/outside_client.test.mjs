// An outside client that shares no code with ours: @grpc/grpc-js and
// @grpc/proto-loader load the repo's .proto files at run time, log in with the
// bootstrap credentials of a freshly started marketd and call WhoAmI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { grpc, loadProtos, startMarketd, waitForReady, call, bearer } from './helpers.mjs';

let server, client;

before(async () => {
  server = await startMarketd();
  const pkg = loadProtos('market/identity/v1/identity.proto');
  client = new pkg.market.identity.v1.IdentityService(server.address,
                                                      grpc.credentials.createInsecure());
  await waitForReady(client);
});

after(async () => {
  if (client) client.close();
  if (server) await server.stop();
});

test('logs in with the bootstrap credentials and calls WhoAmI', async () => {
  const creds = server.bootstrap();
  const login = await call(client, 'Login', { subject: creds.subject, password: creds.password });
  assert.match(login.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const who = await call(client, 'WhoAmI', {}, bearer(login.access_token));
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
