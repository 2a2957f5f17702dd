// /ui/:dc/nodes/:name/{health-checks,service-instances,round-trip-time,lock-sessions,metadata}.

import { html } from '../../vendor/preact-htm.js';
import { encodePath, request, withQuery } from '../api.js';
import { useLive } from '../live.js';
import { href } from '../route.js';
import { Loaded, Status, Tabs, Tags, ConfirmButton, EmptyState } from '../components.js';
import { worstStatus } from '../format.js';
import { CheckList } from './service.js';
import { isLeader, useLeader } from './nodes.js';

/** Vivaldi distance between two coordinates, in seconds (Consul's formula). */
export function rtt(a, b) {
  let sum = 0;
  for (let i = 0; i < a.Vec.length; i += 1) sum += (a.Vec[i] - b.Vec[i]) ** 2;
  const plain = Math.sqrt(sum) + a.Height + b.Height;
  const adjusted = plain + a.Adjustment + b.Adjustment;
  return adjusted > 0 ? adjusted : plain;
}

function RoundTrip({ dc, name }) {
  const state = useLive(withQuery('/v1/coordinate/nodes', { dc }), { live: false });
  return html`<${Loaded} state=${state}>${(coordinates) => {
    const own = (coordinates || []).find((entry) => entry.Node === name);
    if (!own) return html`<p class="muted">No network coordinate for ${name} yet.</p>`;
    const others = coordinates.filter((entry) => entry.Node !== name)
      .map((entry) => ({ node: entry.Node, ms: rtt(own.Coord, entry.Coord) * 1000 }))
      .sort((a, b) => a.ms - b.ms);
    if (!others.length) return html`<p class="muted">No other node to measure against.</p>`;
    const median = others[Math.floor(others.length / 2)].ms;
    return html`<dl class="facts" data-test="rtt">
      <dt>Minimum</dt><dd>${others[0].ms.toFixed(2)} ms (${others[0].node})</dd>
      <dt>Median</dt><dd>${median.toFixed(2)} ms</dd>
      <dt>Maximum</dt><dd>${others[others.length - 1].ms.toFixed(2)} ms (${others[others.length - 1].node})</dd>
    </dl>`;
  }}<//>`;
}

function LockSessions({ dc, name }) {
  const state = useLive(withQuery(`/v1/session/node/${encodePath(name)}`, { dc }));
  return html`<${Loaded} state=${state}>${(sessions) => (!sessions || !sessions.length
    ? html`<p class="muted">No lock sessions.</p>`
    : html`<ul class="cards">${sessions.map((session) => html`<li class="card" data-test="session">
        <h2 class="card-title">${session.Name || session.ID}</h2>
        <dl class="facts"><dt>ID</dt><dd><code>${session.ID}</code></dd>
          <dt>Behavior</dt><dd>${session.Behavior}</dd><dt>TTL</dt><dd>${session.TTL || 'none'}</dd>
          <dt>Lock delay</dt><dd>${(session.LockDelay / 1e9) || 0}s</dd>
          <dt>Checks</dt><dd>${(session.NodeChecks || session.Checks || []).join(', ') || 'none'}</dd></dl>
        <${ConfirmButton} label="Invalidate" question="Invalidate this session (its locks are released)?" onConfirm=${async () => {
          await request(withQuery(`/v1/session/destroy/${session.ID}`, { dc }), { method: 'PUT' });
          state.reload();
        }} />
      </li>`)}</ul>`)}<//>`;
}

export function NodePage({ dc, name, tab }) {
  const state = useLive(withQuery(`/v1/internal/ui/node/${encodePath(name)}`, { dc }));
  const leader = useLeader(dc);
  const tabs = [
    ['health-checks', 'Health Checks'], ['service-instances', 'Service Instances'],
    ['round-trip-time', 'Round Trip Time'], ['lock-sessions', 'Lock Sessions'], ['metadata', 'Metadata'],
  ].map(([key, label]) => [key, label, href(dc, 'nodes', name, key)]);
  return html`<section>
    <p class="crumbs"><a href=${href(dc, 'nodes')}>All nodes</a></p>
    <h1 tabindex="-1">${name}</h1>
    <${Loaded} state=${state}>${(node) => {
      if (!node) return html`<${EmptyState} title="Node not found" />`;
      return html`<p class="subtitle"><${Status} status=${worstStatus(node.Checks)} /> ${node.Address}
        ${isLeader(node, leader.data) && html`<span class="badge leader" data-test="leader">Leader</span>`}</p>
        <${Tabs} tabs=${tabs} current=${tab} />
        ${tab === 'health-checks' && html`<${CheckList} checks=${node.Checks || []} />`}
        ${tab === 'service-instances' && ((node.Services || []).length
          ? html`<ul class="plain-list">${node.Services.map((service) => html`<li class="card">
              <a href=${href(dc, 'services', service.Service, 'instances')}><strong>${service.Service}</strong></a>
              <span class="muted"> ${service.ID} · ${service.Address || node.Address}${service.Port ? `:${service.Port}` : ''}</span>
              <${Tags} tags=${service.Tags} /></li>`)}</ul>`
          : html`<p class="muted">No service instances.</p>`)}
        ${tab === 'round-trip-time' && html`<${RoundTrip} dc=${dc} name=${name} />`}
        ${tab === 'lock-sessions' && html`<${LockSessions} dc=${dc} name=${name} />`}
        ${tab === 'metadata' && html`<dl class="meta">${Object.entries(node.Meta || {}).map(([key, value]) => html`<dt>${key}</dt><dd>${value}</dd>`)}
          ${node.ID && html`<dt>Node ID</dt><dd><code>${node.ID}</code></dd>`}</dl>`}`;
    }}<//>
  </section>`;
}
