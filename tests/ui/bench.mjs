// Web UI benchmark (not part of the test run): time to first paint and to a live list of
// 10,000 services, and the agent's CPU while 20 UI tabs sit idle on the services page.
// Usage: PROCONSUL_BIN=target/release/proconsul node tests/ui/bench.mjs [idle-seconds]
// Results are printed as Markdown rows for docs/BENCHMARKS.md.

import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startAgent } from './agent.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const IDLE_SECONDS = Number(process.argv[2] || 60);
const TICKS = 100; // USER_HZ

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
}

async function idleCpu(pid, seconds) {
  const before = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return ((cpuSeconds(pid) - before) / seconds) * 100;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function register(agent, nodes, perNode) {
  const operations = [];
  for (let n = 0; n < nodes; n += 1) {
    const node = `bench-node-${n}`;
    operations.push({ Node: { Verb: 'set', Node: { Node: node, Address: `10.${n >> 8}.${n & 255}.1` } } });
    for (let s = 0; s < perNode; s += 1) {
      const name = `svc-${n * perNode + s}`;
      operations.push({ Service: { Verb: 'set', Node: node, Service: { ID: name, Service: name, Port: 8000, Tags: [`shard-${n % 7}`] } } });
    }
  }
  for (let i = 0; i < operations.length; i += 128) await agent.api('PUT', '/v1/txn', operations.slice(i, i + 128));
}

async function idleTabs(browser, agent, tabs) {
  const contexts = [];
  for (let i = 0; i < tabs; i += 1) {
    // One browser context per tab: each has its own connections, as separate browsers would.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${agent.url}/ui/dc1/services`);
    await page.locator('[data-test=service-row]').first().waitFor({ timeout: 60000 });
    await page.waitForFunction(() => window.__proconsulBlocking() >= 1);
    contexts.push(context);
  }
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const cpu = await idleCpu(agent.pid, IDLE_SECONDS);
  for (const context of contexts) await context.close();
  return cpu;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-gpu'] });
const rows = [];
for (const [label, nodes, perNode] of [['4 services', 0, 0], ['10,000 services on 5,000 nodes', 5000, 2]]) {
  const agent = await startAgent();
  try {
    await register(agent, nodes, perNode);
    const paints = [];
    const lists = [];
    for (let run = 0; run < 5; run += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const started = Date.now();
      await page.goto(`${agent.url}/ui/dc1/services`);
      await page.locator('[data-test=service-row]').first().waitFor({ timeout: 60000 });
      lists.push(Date.now() - started);
      paints.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
      await context.close();
    }
    const baseline = await idleCpu(agent.pid, IDLE_SECONDS);
    const busy = await idleTabs(browser, agent, 20);
    rows.push(`| ${label} | ${median(paints).toFixed(0)} ms | ${median(lists)} ms | ${baseline.toFixed(2)}% | ${busy.toFixed(2)}% |`);
  } finally {
    agent.stop();
  }
}
await browser.close();
console.log('| Catalog | First contentful paint (median of 5) | Navigation to a rendered, live list (median of 5) | Agent CPU, no tab | Agent CPU, 20 idle tabs |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
