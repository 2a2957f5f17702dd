// /ui/:dc/services/:name/{instances,tags} (and .../instances/:node/:id/... for one
// instance): a service's instances (address, port, node,
// tags, meta) with every check's status, output and notes, kept live.

import { html } from '../../vendor/preact-htm.js';
import { encodePath, withQuery } from '../api.js';
import { useLive } from '../live.js';
import { href } from '../route.js';
import { Loaded, Status, Tabs, Tags, EmptyState } from '../components.js';
import { byStatusThenName, worstStatus, plural } from '../format.js';

export function CheckList({ checks }) {
  if (!checks.length) return html`<p class="muted">No checks.</p>`;
  return html`<ul class="checks" aria-label="health checks">
    ${checks.map((check) => html`<li class="check check-${check.Status}" data-test="check" data-check-id=${check.CheckID}>
      <div class="check-head">
        <${Status} status=${check.Status} />
        <strong>${check.Name}</strong>
        <span class="muted">${check.Type || (check.CheckID === 'serfHealth' ? 'serf' : '')} ${check.ServiceID ? 'service check' : 'node check'}</span>
      </div>
      ${check.Notes && html`<p class="notes">${check.Notes}</p>`}
      ${check.Output && html`<pre class="output" data-test="check-output">${check.Output}</pre>`}
    </li>`)}
  </ul>`;
}

function Meta({ meta }) {
  const entries = Object.entries(meta || {});
  if (!entries.length) return null;
  return html`<dl class="meta">${entries.map(([key, value]) => html`<dt>${key}</dt><dd>${value}</dd>`)}</dl>`;
}

function Instance({ dc, entry }) {
  const service = entry.Service;
  const status = worstStatus(entry.Checks);
  const address = service.Address || entry.Node.Address;
  return html`<article class="card" data-test="instance">
    <h2 class="card-title"><${Status} status=${status} /> <a href=${href(dc, 'services', service.Service, 'instances', entry.Node.Node, service.ID, 'health-checks')}>${service.ID}</a></h2>
    <dl class="facts">
      <dt>Address</dt><dd>${address}${service.Port ? `:${service.Port}` : ''}</dd>
      <dt>Node</dt><dd><a href=${href(dc, 'nodes', entry.Node.Node, 'health-checks')}>${entry.Node.Node}</a> (${entry.Node.Address})</dd>
    </dl>
    <${Tags} tags=${service.Tags} />
    <${Meta} meta=${service.Meta} />
    <${CheckList} checks=${entry.Checks || []} />
  </article>`;
}

export function ServicePage({ dc, name, tab, instance }) {
  const state = useLive(withQuery(`/v1/health/service/${encodePath(name)}`, { dc }));
  const tabs = [
    ['instances', 'Instances', href(dc, 'services', name, 'instances')],
    ['tags', 'Tags', href(dc, 'services', name, 'tags')],
  ];
  return html`<section>
    <p class="crumbs"><a href=${href(dc, 'services')}>All services</a></p>
    <h1 tabindex="-1">${name}</h1>
    <${Tabs} tabs=${tabs} current=${tab} />
    <${Loaded} state=${state}>${(entries) => {
      if (!entries || entries.length === 0) {
        return html`<${EmptyState} title="No instances"><p>No instance of ${name} is registered in ${dc}.</p><//>`;
      }
      if (tab === 'tags') {
        const tags = [...new Set(entries.flatMap((entry) => entry.Service.Tags || []))].sort();
        return tags.length ? html`<${Tags} tags=${tags} />` : html`<p class="muted">No tags.</p>`;
      }
      if (instance) {
        const one = entries.find((entry) => entry.Node.Node === instance.node && entry.Service.ID === instance.id);
        return html`<p class="crumbs"><a href=${href(dc, 'services', name, 'instances')}>All instances of ${name}</a></p>
          ${one ? html`<${Instance} dc=${dc} entry=${one} />` : html`<${EmptyState} title="No such instance"><p>${instance.id} on ${instance.node} is not registered.</p><//>`}`;
      }
      const sorted = [...entries].sort(byStatusThenName((entry) => worstStatus(entry.Checks), (entry) => entry.Node.Node + '/' + entry.Service.ID));
      return html`<p class="count-line">${plural(entries.length, 'instance')}</p>
        <div class="cards">${sorted.map((entry) => html`<${Instance} key=${entry.Node.Node + '/' + entry.Service.ID} dc=${dc} entry=${entry} />`)}</div>`;
    }}<//>
  </section>`;
}
