// The web UI in a real browser: Debian's Chromium driven by playwright-core, against
// `proconsul agent -dev` processes started here. Flows run one after another; any
// console error or uncaught exception on a page fails the flow (Chromium's own line
// for an expected 401/403/404 answer is not an error of the page).

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startAgent } from './agent.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.PROCONSUL_UI_SCREENSHOTS || new URL('../../target/ui-screenshots', import.meta.url).pathname;
const TIMEOUT = 20000;

let browser;
let agent;
let page;
let problems = [];
// Answers a flow provokes on purpose (Chromium logs each non-2xx answer as an error).
let allowed = null;

const EXPECTED_STATUS = /Failed to load resource: the server responded with a status of (401|403|404)/;

function watch(target) {
  target.on('console', (message) => {
    if (message.type() === 'error' && !EXPECTED_STATUS.test(message.text()) && !(allowed && allowed.test(message.text()))) problems.push(`console: ${message.text()}`);
  });
  target.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  target.setDefaultTimeout(TIMEOUT);
  return target;
}

async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  return watch(await context.newPage());
}

async function shot(name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** The first element matching `selector` whose text contains `text`, once it is there. */
async function seen(selector, text) {
  const found = text === undefined ? page.locator(selector).first() : page.locator(selector).filter({ hasText: text }).first();
  await found.waitFor();
  return found;
}

before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-gpu'] });
  agent = await startAgent();
  await agent.api('PUT', '/v1/agent/service/register', {
    Name: 'web', ID: 'web1', Port: 8080, Tags: ['prod', 'v2'], Meta: { team: 'payments' },
    Check: { CheckID: 'web-ttl', Name: 'web heartbeat', TTL: '10m', Notes: 'Pushed by the deploy script' },
  });
  await agent.api('PUT', '/v1/agent/check/pass/web-ttl?note=all%20good');
  await agent.api('PUT', '/v1/agent/service/register', { Name: 'db', ID: 'db1', Port: 5432, Tags: ['primary'] });
  await agent.api('PUT', '/v1/agent/service/register', { Name: 'cache', ID: 'cache1', Port: 6379, Tags: ['redis'],
    Check: { CheckID: 'cache-ttl', Name: 'cache heartbeat', TTL: '10m' } });
  await agent.api('PUT', '/v1/agent/check/warn/cache-ttl?note=memory%20at%2090%25');
  for (const [key, value] of [['app/config', 'v1'], ['app/feature/flags', '{"beta": true}'], ['app/db/url', 'postgres://db:5432/app'], ['ops/owner', 'team-a']]) {
    await agent.api('PUT', `/v1/kv/${key}`, value);
  }
  page = await newPage();
});

after(async () => {
  if (browser) await browser.close();
  if (agent) agent.stop();
});

afterEach(() => {
  const found = problems;
  problems = [];
  allowed = null;
  assert.deepEqual(found, [], 'the page logged errors');
});

test('services: list, search, filter, open one', async () => {
  await page.goto(`${agent.url}/ui/`);
  await page.waitForURL(/\/ui\/dc1\/services$/);
  await seen('[data-test=service-row]', 'web');
  assert.equal(await page.locator('[data-test=service-row]').count(), 4); // consul, web, db, cache
  // Warning first: the default sort is by health.
  assert.match(await page.locator('[data-test=service-row]').first().textContent(), /cache/);
  await shot('services');

  await page.getByLabel('Search services by name or tag').fill('prod');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=service-row]').length === 1);
  assert.match(await page.locator('[data-test=service-row]').textContent(), /web/);
  await page.getByLabel('Search services by name or tag').fill('');
  await page.locator('[data-test=status-filter]').selectOption('warning');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=service-row]').length === 1);
  assert.match(await page.locator('[data-test=service-row]').textContent(), /cache/);
  await page.locator('[data-test=status-filter]').selectOption('critical');
  await seen('[data-test=empty]', 'No services found');
  await page.locator('[data-test=status-filter]').selectOption('');
  await page.locator('[data-test=sort]').selectOption('name');
  await page.waitForFunction(() => document.querySelector('[data-test=service-row]')?.textContent.includes('cache'));

  await (await seen('[data-test=service-row]', 'web')).click();
  await page.waitForURL(/\/ui\/dc1\/services\/web\/instances$/);
  const instance = await seen('[data-test=instance]', 'web1');
  const text = await instance.textContent();
  assert.match(text, /127\.0\.0\.1:8080/);
  assert.match(text, /ui-node/);
  assert.match(text, /payments/);
  assert.match(text, /Pushed by the deploy script/);
  await seen('[data-check-id=web-ttl] [data-test=check-output]', 'all good');
  await shot('service');
  // One instance has its own address, as in Consul's UI.
  await page.getByRole('link', { name: 'web1' }).click();
  await page.waitForURL(/\/ui\/dc1\/services\/web\/instances\/ui-node\/web1\/health-checks$/);
  await seen('[data-test=instance]', 'web1');
  await page.getByRole('link', { name: 'All instances of web' }).click();
  await page.waitForURL(/\/ui\/dc1\/services\/web\/instances$/);
});

test('a check turning critical shows up live, with at most three blocking queries', async () => {
  await seen('[data-check-id=web-ttl] [data-test=status]', 'Passing');
  await agent.api('PUT', '/v1/agent/check/fail/web-ttl?note=disk%20full');
  await seen('[data-check-id=web-ttl] [data-test=status]', 'Critical');
  await seen('[data-check-id=web-ttl] [data-test=check-output]', 'disk full');
  assert.ok(await page.evaluate(() => window.__proconsulBlocking()) <= 3);

  // A hidden tab holds no blocking query, and resumes when shown.
  await page.waitForFunction(() => window.__proconsulBlocking() >= 1);
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.waitForFunction(() => window.__proconsulBlocking() === 0);
  await agent.api('PUT', '/v1/agent/check/pass/web-ttl?note=recovered');
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await seen('[data-check-id=web-ttl] [data-test=check-output]', 'recovered');
});

test('nodes: leader badge, a node with checks, instances, sessions and metadata', async () => {
  await page.goto(`${agent.url}/ui/dc1/nodes`);
  const row = await seen('[data-test=node-row]', 'ui-node');
  assert.match(await row.textContent(), /Leader/);
  await shot('nodes');
  await row.click();
  await page.waitForURL(/\/ui\/dc1\/nodes\/ui-node\/health-checks$/);
  await seen('[data-test=check]', 'Serf Health Status');
  await seen('[data-test=check]', 'cache heartbeat');
  await shot('node');
  await page.getByRole('link', { name: 'Service Instances' }).click();
  await seen('main .card', 'cache');
  const session = await agent.api('PUT', '/v1/session/create', { Name: 'deploy-lock', Node: 'ui-node' });
  await page.getByRole('link', { name: 'Lock Sessions' }).click();
  await seen('[data-test=session]', 'deploy-lock');
  await page.locator('[data-test=session] button.danger').click();
  await page.locator('.confirm button.danger').click();
  await page.waitForFunction(() => !document.querySelector('[data-test=session]'));
  assert.deepEqual(await agent.api('GET', `/v1/session/info/${session.ID}`), []);
  await page.getByRole('link', { name: 'Round Trip Time' }).click();
  await seen('main', 'Round Trip Time');
  await page.getByRole('link', { name: 'Metadata' }).click();
  await seen('main dl.meta');
});

test('key/value: browse folders, read first, edit with check-and-set and see the conflict', async () => {
  await page.goto(`${agent.url}/ui/dc1/kv/`);
  await (await seen('[data-test=kv-row]', 'app/')).click();
  await page.waitForURL(/\/ui\/dc1\/kv\/app\/$/);
  await seen('nav.crumbs', 'app');
  await shot('kv-folder');
  await (await seen('[data-test=kv-row]', 'config')).click();
  await page.waitForURL(/\/ui\/dc1\/kv\/app\/config$/);
  await seen('[data-test=kv-value]', 'v1');
  assert.equal(await page.locator('[data-test=kv-flags]').textContent(), '0');
  assert.equal(await page.locator('textarea').count(), 0, 'a key opens read-only');

  await page.locator('[data-test=kv-edit]').click();
  await page.waitForURL(/\/ui\/dc1\/kv\/app\/config\/edit$/);
  const textarea = await seen('[data-test=kv-textarea]');
  await page.waitForFunction(() => document.querySelector('[data-test=kv-textarea]').value === 'v1');
  await textarea.fill('mine');
  // Someone else writes the key meanwhile.
  await agent.api('PUT', '/v1/kv/app/config', 'theirs');
  await page.locator('[data-test=kv-save]').click();
  await seen('[data-test=kv-conflict]', 'Someone else changed this key');
  await seen('[data-test=kv-their-value]', 'theirs');
  await shot('kv-conflict');
  assert.equal(Buffer.from((await agent.api('GET', '/v1/kv/app/config'))[0].Value, 'base64').toString(), 'theirs');
  await page.locator('[data-test=kv-overwrite]').click();
  await page.waitForURL(/\/ui\/dc1\/kv\/app\/config$/);
  await seen('[data-test=kv-value]', 'mine');
  assert.equal(Buffer.from((await agent.api('GET', '/v1/kv/app/config'))[0].Value, 'base64').toString(), 'mine');
});

test('key/value: create a key and a folder, search the whole tree, delete', async () => {
  await page.goto(`${agent.url}/ui/dc1/kv/app/`);
  await page.locator('[data-test=kv-create]').click();
  await page.waitForURL(/\/ui\/dc1\/kv\/app\/create$/);
  await (await seen('[data-test=kv-name]')).fill('deep/nested-key');
  await page.locator('[data-test=kv-textarea]').fill('found me');
  await page.locator('[data-test=kv-save]').click();
  await page.waitForURL(/\/ui\/dc1\/kv\/app\/deep\/nested-key$/);
  await seen('[data-test=kv-value]', 'found me');

  // A large value is shown cut, until asked for whole.
  await agent.api('PUT', '/v1/kv/app/big', 'x'.repeat(400 * 1024));
  await page.goto(`${agent.url}/ui/dc1/kv/app/big`);
  const cut = await seen('[data-test=kv-value]');
  assert.equal((await cut.textContent()).length, 64 * 1024);
  await page.getByRole('button', { name: /Show the whole value/ }).click();
  await page.waitForFunction(() => document.querySelector('[data-test=kv-value]').textContent.length === 400 * 1024);
  await agent.api('DELETE', '/v1/kv/app/big');

  // Creating over an existing key is refused (check-and-set with index 0).
  await page.goto(`${agent.url}/ui/dc1/kv/app/create`);
  await (await seen('[data-test=kv-name]')).fill('config');
  await page.locator('[data-test=kv-textarea]').fill('clobber');
  await page.locator('[data-test=kv-save]').click();
  await seen('[data-test=kv-conflict]', 'already exists');

  await page.goto(`${agent.url}/ui/dc1/kv/create`);
  await (await seen('[data-test=kv-name]')).fill('empty-folder/');
  await page.locator('[data-test=kv-save]').click();
  await page.waitForURL(/\/ui\/dc1\/kv\/empty-folder\/$/);
  assert.deepEqual(await agent.api('GET', '/v1/kv/empty-folder/?keys'), ['empty-folder/']);

  // Search from the root finds a key three levels down.
  await page.goto(`${agent.url}/ui/dc1/kv/`);
  await page.getByLabel('Search all keys').fill('nested');
  await (await seen('[data-test=kv-search-result]', 'app/deep/nested-key')).click();
  await page.waitForURL(/\/ui\/dc1\/kv\/app\/deep\/nested-key$/);

  // Delete a key, then a folder recursively after confirming.
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.locator('.confirm button.danger').click();
  await page.waitForURL(/\/ui\/dc1\/kv\/app\/deep\/$/);
  await page.goto(`${agent.url}/ui/dc1/kv/empty-folder/`);
  await page.getByRole('button', { name: 'Delete folder' }).click();
  await seen('.confirm', 'every key under it');
  await page.locator('.confirm button.danger').click();
  await page.waitForURL(/\/ui\/dc1\/kv\/$/);
  const keys = await agent.api('GET', '/v1/kv/?keys');
  assert.ok(!keys.some((key) => key.startsWith('empty-folder/') || key === 'app/deep/nested-key'), keys.join(','));
});

test('key/value: export a folder, delete it, import it back', async () => {
  await page.goto(`${agent.url}/ui/dc1/kv/app/`);
  await seen('[data-test=kv-row]', 'config');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=kv-export]').click()]);
  const file = await download.path();
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  const byKey = Object.fromEntries(exported.map((entry) => [entry.key, entry]));
  assert.equal(Buffer.from(byKey['app/config'].value, 'base64').toString(), 'mine');
  assert.equal(Buffer.from(byKey['app/feature/flags'].value, 'base64').toString(), '{"beta": true}');
  assert.equal(byKey['app/config'].flags, 0);
  assert.ok(!exported.some((entry) => entry.key.startsWith('ops/')));

  await page.getByRole('button', { name: 'Delete folder' }).click();
  await page.locator('.confirm button.danger').click();
  await page.waitForURL(/\/ui\/dc1\/kv\/$/);
  assert.equal((await agent.api('GET', '/v1/kv/?keys')).filter((key) => key.startsWith('app/')).length, 0);

  await page.locator('[data-test=kv-import]').setInputFiles(file);
  await seen('[data-test=kv-message]', `Imported ${exported.length} keys`);
  await seen('[data-test=kv-row]', 'app/');
  assert.equal(Buffer.from((await agent.api('GET', '/v1/kv/app/db/url'))[0].Value, 'base64').toString(), 'postgres://db:5432/app');
});

test('datacenter switcher lists the datacenters and switches', async () => {
  await page.goto(`${agent.url}/ui/dc1/nodes`);
  await seen('[data-test=node-row]', 'ui-node');
  const options = await page.locator('[data-test=dc-switcher] option').allTextContents();
  assert.deepEqual(options, ['dc1']);
  // An unknown datacenter is the agent's 500 with its text, shown on the page.
  allowed = /status of 500/;
  await page.goto(`${agent.url}/ui/dc2/services`);
  await seen('[data-test=error]', 'Error 500');
  await page.locator('[data-test=dc-switcher]').selectOption('dc1');
  await page.waitForURL(/\/ui\/dc1\/services$/);
  await seen('[data-test=service-row]', 'web');
});

test('datacenter switcher with two federated datacenters: the other datacenter\'s services and nodes', async () => {
  const dc2 = await startAgent({ server: true, node: 'server-b', args: ['-datacenter=dc2', '-gossip-probe-interval=200ms'] });
  let dc1;
  try {
    dc1 = await startAgent({ server: true, node: 'server-a',
      args: ['-datacenter=dc1', '-gossip-probe-interval=200ms', '-retry-interval=200ms', `-retry-join-wan=127.0.0.1:${dc2.serfWanPort}`] });
    await dc2.api('PUT', '/v1/agent/service/register', { Name: 'billing', ID: 'billing1', Port: 9090, Tags: ['eu'] });
    // The WAN pool joined: dc1 lists both datacenters.
    const deadline = Date.now() + 60000;
    while ((await dc1.api('GET', '/v1/catalog/datacenters')).length < 2) {
      assert.ok(Date.now() < deadline, 'dc1 never saw dc2');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const federated = await newPage();
    await federated.goto(`${dc1.url}/ui/dc1/services`);
    await federated.locator('[data-test=service-row]').filter({ hasText: 'consul' }).first().waitFor();
    const options = await federated.locator('[data-test=dc-switcher] option').allTextContents();
    assert.deepEqual([...options].sort(), ['dc1', 'dc2']);
    // Switching reads dc2's catalog through dc1 (?dc=dc2, forwarded over the WAN).
    await federated.locator('[data-test=dc-switcher]').selectOption('dc2');
    await federated.waitForURL(/\/ui\/dc2\/services$/);
    await federated.locator('[data-test=service-row]').filter({ hasText: 'billing' }).first().waitFor();
    await federated.goto(`${dc1.url}/ui/dc2/nodes`);
    await federated.locator('[data-test=node-row]').filter({ hasText: 'server-b' }).first().waitFor();
    assert.equal(await federated.locator('[data-test=node-row]').filter({ hasText: 'server-a' }).count(), 0);
    await federated.context().close();
  } finally {
    if (dc1) dc1.stop();
    dc2.stop();
  }
});

test('keyboard navigation through a list, and phone width', async () => {
  await page.goto(`${agent.url}/ui/dc1/services`);
  await seen('[data-test=service-row]', 'web');
  await page.locator('[data-test=service-row]').first().focus();
  const first = await page.evaluate(() => document.activeElement.textContent);
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction((before) => document.activeElement.textContent !== before, first);
  assert.equal(await page.evaluate(() => document.activeElement.closest('[data-row]').dataset.row), '1');
  await page.keyboard.press('End');
  await page.waitForFunction(() => document.activeElement.closest('[data-row]')?.dataset.row === '3');
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.activeElement.closest('[data-row]')?.dataset.row === '0');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/ui\/dc1\/services\/[^/]+\/instances$/);

  const phone = await newPage({ viewport: { width: 390, height: 844 } });
  for (const path of ['/ui/dc1/services', '/ui/dc1/services/web/instances', '/ui/dc1/kv/app/config']) {
    await phone.goto(agent.url + path);
    await phone.locator('main h1').waitFor();
    await phone.waitForFunction(() => !document.querySelector('main .loading'));
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path} is ${overflow}px wider than a phone`);
  }
  const saved = page;
  page = phone;
  await phone.goto(`${agent.url}/ui/dc1/services`);
  await phone.locator('[data-test=service-row]').first().waitFor();
  await shot('services-phone');
  page = saved;
  await phone.context().close();
});

test('overview: servers, leader and health totals', async () => {
  await page.goto(`${agent.url}/ui/dc1/overview`);
  const servers = await seen('[data-test=servers]', 'Leader');
  assert.match(await servers.textContent(), /127\.0\.0\.1:\d+/);
  await seen('[data-test=totals-services]', '1 warning');
  await seen('[data-test=totals-nodes]', '1');
  await shot('overview');
});

test('settings: blocking queries can be turned off, and back on', async () => {
  await page.goto(`${agent.url}/ui/setting`);
  const toggle = await seen('[data-test=blocking-toggle]');
  assert.equal(await toggle.isChecked(), true);
  await toggle.uncheck();
  assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('consul:client'))), { blocking: false });
  await page.goto(`${agent.url}/ui/dc1/services/web/instances`);
  await seen('[data-test=instance]', 'web1');
  // The view read its data once and holds no query open.
  assert.equal(await page.evaluate(() => window.__proconsulBlocking()), 0);
  await page.goto(`${agent.url}/ui/setting`);
  await (await seen('[data-test=blocking-toggle]')).check();
  await page.goto(`${agent.url}/ui/dc1/services/web/instances`);
  await seen('[data-test=instance]', 'web1');
  await page.waitForFunction(() => window.__proconsulBlocking() >= 1);
});

test('an API error is a message, not a blank page', async () => {
  await page.goto(`${agent.url}/ui/dc1/nodes/no-such-node/health-checks`);
  await seen('main', 'no-such-node');
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  assert.ok((await page.locator('main').textContent()).length > 20);
});

test('10,000 services and 5,000 nodes render, scroll and stay virtualised', async () => {
  const operations = [];
  for (let n = 0; n < 5000; n += 1) {
    const node = `scale-node-${String(n).padStart(4, '0')}`;
    operations.push({ Node: { Verb: 'set', Node: { Node: node, Address: `10.${n >> 8}.${n & 255}.1` } } });
    for (let s = 0; s < 2; s += 1) {
      const name = `svc-${String(n * 2 + s).padStart(5, '0')}`;
      operations.push({ Service: { Verb: 'set', Node: node, Service: { ID: name, Service: name, Port: 8000 + s, Tags: [`shard-${n % 7}`] } } });
    }
  }
  const started = Date.now();
  for (let i = 0; i < operations.length; i += 128) await agent.api('PUT', '/v1/txn', operations.slice(i, i + 128));
  console.log(`# registered 5,000 nodes and 10,000 services in ${Date.now() - started} ms`);

  const opened = Date.now();
  await page.goto(`${agent.url}/ui/dc1/services`);
  await seen('[data-test=total]', '10,004 total');
  await page.locator('[data-test=service-row]').first().waitFor();
  console.log(`# services page to a live list of 10,004 services: ${Date.now() - opened} ms`);
  const rows = await page.locator('[data-test=service-row]').count();
  assert.ok(rows < 100, `${rows} rows in the DOM`);
  await page.locator('[data-test=vlist]').evaluate((box) => { box.scrollTop = box.scrollHeight; });
  await seen('[data-test=service-row]', 'web');
  const atBottom = await page.locator('[data-test=service-row]').count();
  assert.ok(atBottom < 100, `${atBottom} rows in the DOM at the bottom`);
  await page.getByLabel('Search services by name or tag').fill('svc-09999');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=service-row]').length === 1);

  const nodesOpened = Date.now();
  await page.goto(`${agent.url}/ui/dc1/nodes`);
  await seen('h1', '5,001 total');
  console.log(`# nodes page to a list of 5,001 nodes: ${Date.now() - nodesOpened} ms`);
  assert.ok(await page.locator('[data-test=node-row]').count() < 100);
  // ui-node has a warning check, so it sorts first; the last node is at the bottom.
  await seen('[data-test=node-row]', 'ui-node');
  await page.locator('[data-test=vlist]').evaluate((box) => { box.scrollTop = box.scrollHeight; });
  await seen('[data-test=node-row]', 'scale-node-4999');
});

test('ACLs: log in with a token, pages limited by its policy, manage tokens, policies and roles', async () => {
  const root = 'root-secret-for-ui-tests';
  const secured = await startAgent({
    config: { acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: root } } },
    token: root,
  });
  try {
    await secured.api('PUT', '/v1/agent/service/register', { Name: 'web', ID: 'web1', Port: 80 }, root);
    await secured.api('PUT', '/v1/kv/secret', 'hidden', root);
    await secured.api('PUT', '/v1/acl/policy', { Name: 'read-catalog', Rules: 'service_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }' }, root);
    const reader = await secured.api('PUT', '/v1/acl/token', { Description: 'catalog reader', Policies: [{ Name: 'read-catalog' }] }, root);

    const acl = await newPage();
    page = acl;
    // Without a token (anonymous, default deny) nothing is listed.
    await acl.goto(`${secured.url}/ui/dc1/services`);
    await seen('main [data-test=empty], main [data-test=error]');
    assert.equal(await acl.locator('[data-test=service-row]', { hasText: 'web' }).count(), 0);

    await acl.goto(`${secured.url}/ui/setting`);
    await (await seen('[data-test=token-input]')).fill(reader.SecretID);
    await acl.locator('[data-test=login]').click();
    await seen('[data-test=current-token]', reader.AccessorID);
    await acl.goto(`${secured.url}/ui/dc1/services`);
    await seen('[data-test=service-row]', 'web');
    // Key/value and ACLs are beyond its policy: the 403 is shown with the missing
    // permission; a folder listing is filtered to nothing, as in Consul.
    await acl.goto(`${secured.url}/ui/dc1/kv/`);
    await seen('[data-test=empty]', 'No keys here');
    await acl.goto(`${secured.url}/ui/dc1/kv/secret`);
    const denied = await seen('[data-test=error]', 'Permission denied');
    assert.match(await denied.textContent(), /lacks permission 'key:read'/);
    assert.match(await denied.textContent(), /403/);
    await shot('permission-denied');
    await acl.goto(`${secured.url}/ui/dc1/acls/tokens`);
    await seen('[data-test=error]', 'Permission denied');

    // The management token sees and manages everything.
    await acl.goto(`${secured.url}/ui/setting`);
    const management = await secured.api('GET', '/v1/acl/token/self', undefined, root);
    await (await seen('[data-test=token-input]')).fill(root);
    await acl.locator('[data-test=login]').click();
    await seen('[data-test=current-token]', management.AccessorID);
    await acl.goto(`${secured.url}/ui/dc1/acls/tokens`);
    await (await seen('[data-test=acl-row]', 'catalog reader')).getByRole('link').click();
    await seen('[data-test=secret]', reader.SecretID);
    await shot('acl-token');
    await acl.goto(`${secured.url}/ui/dc1/acls/policies/create`);
    await (await seen('[data-test=acl-Name]')).fill('kv-reader');
    await acl.locator('[data-test=acl-Rules]').fill('key_prefix "" { policy = "read" }');
    await acl.locator('[data-test=acl-save]').click();
    await acl.waitForURL(/\/ui\/dc1\/acls\/policies\/[0-9a-f-]{36}$/);
    const policies = await secured.api('GET', '/v1/acl/policies', undefined, root);
    const created = policies.find((policy) => policy.Name === 'kv-reader');
    assert.ok(created);
    await acl.getByRole('button', { name: 'Delete' }).click();
    await acl.locator('.confirm button.danger').click();
    await acl.waitForURL(/\/ui\/dc1\/acls\/policies$/);
    assert.ok(!(await secured.api('GET', '/v1/acl/policies', undefined, root)).some((policy) => policy.Name === 'kv-reader'));

    // Roles: one linking a policy, then edited; a token made with the role; both deleted.
    const until = async (what, check) => {
      const deadline = Date.now() + TIMEOUT;
      while (!(await check())) {
        assert.ok(Date.now() < deadline, `never: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const roleNamed = async (name) => (await secured.api('GET', '/v1/acl/roles', undefined, root)).find((role) => role.Name === name);
    await acl.goto(`${secured.url}/ui/dc1/acls/roles/create`);
    await (await seen('[data-test=acl-Name]')).fill('catalog-role');
    await acl.locator('[data-test=acl-Policies]').fill('read-catalog');
    await acl.locator('[data-test=acl-save]').click();
    await acl.waitForURL(/\/ui\/dc1\/acls\/roles\/[0-9a-f-]{36}$/);
    assert.deepEqual((await roleNamed('catalog-role')).Policies.map((policy) => policy.Name), ['read-catalog']);
    await (await seen('[data-test=acl-Description]')).fill('reads the catalog');
    await acl.locator('[data-test=acl-save]').click();
    await until('the role edited', async () => (await roleNamed('catalog-role')).Description === 'reads the catalog');
    await acl.goto(`${secured.url}/ui/dc1/acls/tokens/create`);
    await (await seen('[data-test=acl-Description]')).fill('made in the UI');
    await acl.locator('[data-test=acl-Roles]').fill('catalog-role');
    await acl.locator('[data-test=acl-save]').click();
    await acl.waitForURL(/\/ui\/dc1\/acls\/tokens\/[0-9a-f-]{36}$/);
    const tokenMade = async () => (await secured.api('GET', '/v1/acl/tokens', undefined, root)).find((token) => token.Description === 'made in the UI');
    assert.deepEqual((await tokenMade()).Roles.map((role) => role.Name), ['catalog-role']);
    await acl.getByRole('button', { name: 'Delete' }).click();
    await acl.locator('.confirm button.danger').click();
    await acl.waitForURL(/\/ui\/dc1\/acls\/tokens$/);
    assert.equal(await tokenMade(), undefined);
    await acl.goto(`${secured.url}/ui/dc1/acls/roles/${(await roleNamed('catalog-role')).ID}`);
    await acl.getByRole('button', { name: 'Delete' }).click();
    await acl.locator('.confirm button.danger').click();
    await acl.waitForURL(/\/ui\/dc1\/acls\/roles$/);
    assert.equal(await roleNamed('catalog-role'), undefined);

    // "Use this token" logs the UI in as the reader.
    await acl.goto(`${secured.url}/ui/dc1/acls/tokens/${reader.AccessorID}`);
    await acl.locator('[data-test=use-token]').click();
    await acl.goto(`${secured.url}/ui/setting`);
    await seen('[data-test=current-token]', reader.AccessorID);
    await acl.context().close();
  } finally {
    secured.stop();
  }
});
