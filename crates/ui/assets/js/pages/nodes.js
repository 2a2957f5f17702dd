// /ui/:dc/nodes: every node with a leader badge, its address and health; search and a
// status filter; virtualised for thousands of nodes.

import { html, useMemo, useState } from '../../vendor/preact-htm.js';
import { withQuery } from '../api.js';
import { useLive } from '../live.js';
import { href } from '../route.js';
import { Loaded, SearchBox, Status, VirtualList, EmptyState } from '../components.js';
import { byStatusThenName, worstStatus, plural } from '../format.js';

/** Whether `node` is the Raft leader (`/v1/status/leader` is "ip:port"). */
export function isLeader(node, leader) {
  if (!leader) return false;
  const ip = leader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return node.Address === ip || (node.TaggedAddresses && Object.values(node.TaggedAddresses).includes(ip));
}

/** The leader's "ip:port", refreshed now and then (it has no blocking query). */
export function useLeader(dc) {
  return useLive(withQuery('/v1/status/leader', { dc }), { live: false });
}

function NodeRow({ dc, node, leader }) {
  const status = worstStatus(node.Checks);
  return html`<a class="row-link" href=${href(dc, 'nodes', node.Node, 'health-checks')} data-test="node-row">
    <span class="row-main">
      <${Status} status=${status} />
      <strong class="row-name">${node.Node}</strong>
      ${isLeader(node, leader) && html`<span class="badge leader" data-test="leader">Leader</span>`}
    </span>
    <span class="row-meta">
      <span>${node.Address}</span>
      <span>${plural((node.Services || []).length, 'service instance')}</span>
    </span>
  </a>`;
}

export function NodesPage({ dc }) {
  const state = useLive(withQuery('/v1/internal/ui/nodes', { dc }));
  const leader = useLeader(dc);
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (state.data || [])
      .filter((node) => (!status || worstStatus(node.Checks) === status)
        && (!needle || node.Node.toLowerCase().includes(needle) || (node.Address || '').includes(needle)))
      .sort(byStatusThenName((node) => worstStatus(node.Checks), (node) => node.Node));
  }, [state.data, search, status]);
  return html`<section>
    <h1 tabindex="-1">Nodes <small>${plural((state.data || []).length, 'total', 'total')}</small></h1>
    <div class="toolbar" role="search">
      <${SearchBox} value=${search} onInput=${setSearch} label="Search nodes by name or address" />
      <label>Status
        <select value=${status} onChange=${(event) => setStatus(event.target.value)}>
          <option value="">All</option><option value="passing">Passing</option>
          <option value="warning">Warning</option><option value="critical">Critical</option>
        </select>
      </label>
    </div>
    <${Loaded} state=${state}>${() => (shown.length === 0
      ? html`<${EmptyState} title="No nodes found" />`
      : html`<p class="count-line">${plural(shown.length, 'node')} shown</p>
        <${VirtualList} label="nodes" items=${shown} renderRow=${(node) => html`<${NodeRow} dc=${dc} node=${node} leader=${leader.data} />`} />`)}<//>
  </section>`;
}
