// Starts `proconsul agent -dev` on free loopback ports for the browser tests, and
// talks to its HTTP API.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const binary = process.env.PROCONSUL_BIN || new URL('../../target/debug/proconsul', import.meta.url).pathname;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A running agent: `url`, `serfWanPort`, `api()`, `stop()`. By default `proconsul agent
 * -dev`; with `server` a durable single-voter server (`-server -bootstrap`, UI on), which
 * other datacenters can forward to. `config` is written as a JSON config file; `args` are
 * added to the command line.
 */
export async function startAgent({ config, token, server: durable = false, node = 'ui-node', args: extra = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-ui-'));
  const [http, server, serf, serfWan] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const mode = durable ? ['-server', '-bootstrap', `-data-dir=${join(dir, 'data')}`, '-ui'] : ['-dev'];
  const args = ['agent', ...mode, `-http-port=${http}`, `-server-port=${server}`, `-serf-lan-port=${serf}`,
    `-serf-wan-port=${serfWan}`, '-dns-port=-1', `-node=${node}`, ...extra];
  if (config) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    args.push(`-config-file=${join(dir, 'config.json')}`);
  }
  const logPath = join(dir, 'agent.log');
  const { openSync } = await import('node:fs');
  const log = openSync(logPath, 'w');
  const child = spawn(binary, args, { stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${http}`;
  const agent = {
    url,
    serfWanPort: serfWan,
    pid: child.pid,
    log: () => readFileSync(logPath, 'utf8'),
    async api(method, path, body, asToken = token) {
      const headers = {};
      if (asToken) headers['X-Consul-Token'] = asToken;
      const response = await fetch(url + path, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    stop() {
      child.kill('SIGKILL');
    },
  };
  const deadline = Date.now() + 60000;
  for (;;) {
    try {
      const leader = await fetch(`${url}/v1/status/leader`).then((response) => response.json());
      if (leader) {
        // The agent's own node is registered once it is leader.
        const nodes = await fetch(`${url}/v1/catalog/nodes`, { headers: token ? { 'X-Consul-Token': token } : {} }).then((response) => response.json());
        if (Array.isArray(nodes) && nodes.length) break;
      }
    } catch (_) { /* not up yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the agent did not start:\n${agent.log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return agent;
}
