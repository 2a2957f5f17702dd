// /ui/:dc/services: every service with its health summary, instance count and tags;
// search over names and tags, a status filter and sorting. The list is virtualised,
// so 10,000 services scroll as smoothly as ten.

import { html, useMemo, useState } from '../../vendor/preact-htm.js';
import { withQuery } from '../api.js';
import { useLive } from '../live.js';
import { href } from '../route.js';
import { HealthCounts, Loaded, SearchBox, Status, EmptyState, VirtualList } from '../components.js';
import { compareNames, plural } from '../format.js';

/** A service's worst state from its check counts. */
export function summaryStatus(service) {
  if (service.ChecksCritical > 0) return 'critical';
  if (service.ChecksWarning > 0) return 'warning';
  return 'passing';
}

const RANK = { critical: 0, warning: 1, passing: 2 };
const SORTS = {
  'status': (a, b) => RANK[summaryStatus(a)] - RANK[summaryStatus(b)] || compareNames(a.Name, b.Name),
  'name': (a, b) => compareNames(a.Name, b.Name),
  'name-desc': (a, b) => compareNames(b.Name, a.Name),
  'instances': (a, b) => (b.InstanceCount || 0) - (a.InstanceCount || 0) || compareNames(a.Name, b.Name),
};

/** Filters and sorts a service list (pure: the page and the tests share it). */
export function selectServices(services, { search, status, sort }) {
  const needle = search.trim().toLowerCase();
  const chosen = (services || []).filter((service) => {
    if (service.Kind === 'connect-proxy') return false;
    if (status && summaryStatus(service) !== status) return false;
    if (!needle) return true;
    return service.Name.toLowerCase().includes(needle) || (service.Tags || []).some((tag) => tag.toLowerCase().includes(needle));
  });
  return chosen.sort(SORTS[sort] || SORTS.status);
}

function ServiceRow({ dc, service }) {
  return html`<a class="row-link" href=${href(dc, 'services', service.Name, 'instances')} data-test="service-row">
    <span class="row-main">
      <${Status} status=${summaryStatus(service)} />
      <strong class="row-name">${service.Name}</strong>
      ${service.Kind && html`<span class="kind">${service.Kind}</span>`}
    </span>
    <span class="row-meta">
      <${HealthCounts} passing=${service.ChecksPassing} warning=${service.ChecksWarning} critical=${service.ChecksCritical} />
      <span>${plural(service.InstanceCount || 0, 'instance')}</span>
      <span class="row-tags">${(service.Tags || []).slice(0, 6).join(' · ')}${(service.Tags || []).length > 6 ? ' …' : ''}</span>
    </span>
  </a>`;
}

export function ServicesPage({ dc }) {
  const state = useLive(withQuery('/v1/internal/ui/services', { dc }));
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const [sort, setSort] = useState('status');
  const shown = useMemo(() => selectServices(state.data, { search, status, sort }), [state.data, search, status, sort]);
  const total = (state.data || []).filter((service) => service.Kind !== 'connect-proxy').length;
  return html`<section>
    <h1 tabindex="-1">Services <small data-test="total">${plural(total, 'total', 'total')}</small></h1>
    <div class="toolbar" role="search">
      <${SearchBox} value=${search} onInput=${setSearch} label="Search services by name or tag" />
      <label>Status
        <select value=${status} onChange=${(event) => setStatus(event.target.value)} data-test="status-filter">
          <option value="">All</option><option value="passing">Passing</option>
          <option value="warning">Warning</option><option value="critical">Critical</option>
        </select>
      </label>
      <label>Sort
        <select value=${sort} onChange=${(event) => setSort(event.target.value)} data-test="sort">
          <option value="status">Health status</option><option value="name">Name A–Z</option>
          <option value="name-desc">Name Z–A</option><option value="instances">Most instances</option>
        </select>
      </label>
    </div>
    <${Loaded} state=${state}>${() => (total === 0
      ? html`<${EmptyState} title="Welcome to Services"><p>No service is registered in ${dc} yet. Register one with <code>PUT /v1/agent/service/register</code>.</p><//>`
      : shown.length === 0
        ? html`<${EmptyState} title="No services found"><p>No service matches the search or filter.</p><//>`
        : html`<p class="count-line" aria-live="polite">${plural(shown.length, 'service')} shown</p>
          <${VirtualList} label="services" items=${shown} renderRow=${(service) => html`<${ServiceRow} dc=${dc} service=${service} />`} />`)}<//>
  </section>`;
}
