// The app shell: header with navigation and the datacenter switcher, and the page for
// the current URL. Pages follow Consul's UI URL scheme under the content path.

import { html, render, useEffect } from '../vendor/preact-htm.js';
import { href, navigate, useRoute } from './route.js';
import { useLive } from './live.js';
import { token } from './settings.js';
import { ErrorMessage } from './components.js';
import { ServicesPage } from './pages/services.js';
import { ServicePage } from './pages/service.js';
import { NodesPage } from './pages/nodes.js';
import { NodePage } from './pages/node.js';
import { KvPage } from './pages/kv.js';
import { AclPage } from './pages/acls.js';
import { SettingsPage } from './pages/settings.js';
import { OverviewPage } from './pages/overview.js';

const SECTIONS = [
  ['overview', 'Overview'],
  ['services', 'Services'],
  ['nodes', 'Nodes'],
  ['kv', 'Key/Value'],
  ['acls', 'Access Controls'],
];

function DatacenterSwitcher({ dc, segments }) {
  const datacenters = useLive('/v1/catalog/datacenters', { live: false });
  const list = datacenters.data || [dc];
  const choose = (event) => {
    const rest = segments.slice(1, 2);
    navigate(href(event.target.value, ...(rest.length ? rest : ['services'])));
  };
  return html`<label class="dc-switcher"><span class="visually-hidden">Datacenter</span>
    <select onChange=${choose} value=${dc} data-test="dc-switcher">
      ${(list.includes(dc) ? list : [dc, ...list]).map((name) => html`<option value=${name}>${name}</option>`)}
    </select>
  </label>`;
}

function Header({ dc, section, segments }) {
  const saved = token();
  return html`<header class="top">
    <a class="brand" href=${href(dc || '', 'services')}>Proconsul</a>
    ${dc && html`<${DatacenterSwitcher} dc=${dc} segments=${segments} />`}
    <nav aria-label="main" class="main-nav">
      ${dc && SECTIONS.map(([key, label]) => html`<a href=${href(dc, key === 'acls' ? 'acls/tokens' : key === 'kv' ? 'kv/' : key)}
        aria-current=${section === key ? 'page' : undefined}>${label}</a>`)}
      <a href=${href('setting')} aria-current=${section === 'setting' ? 'page' : undefined}>${saved ? 'Settings (token set)' : 'Settings / Log in'}</a>
    </nav>
  </header>`;
}

/** `/ui/`: goes to the first (nearest) datacenter's services, as Consul does. */
function PickDatacenter() {
  const datacenters = useLive('/v1/catalog/datacenters', { live: false });
  useEffect(() => {
    if (datacenters.data && datacenters.data.length) navigate(href(datacenters.data[0], 'services'), { replace: true });
  }, [datacenters.data]);
  if (datacenters.error) return html`<${ErrorMessage} error=${datacenters.error} retry=${datacenters.reload} />`;
  return html`<p class="loading" role="status">Loading datacenters…</p>`;
}

function NotFound() {
  return html`<div class="empty"><h1>Page not found</h1><p>This address is not a page of the UI.</p></div>`;
}

function Page({ route }) {
  const [first, section, ...rest] = route.segments;
  if (first === undefined) return html`<${PickDatacenter} />`;
  if (first === 'setting' || first === 'settings') return html`<${SettingsPage} />`;
  const dc = first;
  switch (section) {
    case undefined:
    case 'services':
      if (rest.length === 0) return html`<${ServicesPage} dc=${dc} />`;
      // `/services/:name/instances/:node/:id/...` is one instance, as in Consul's UI.
      return html`<${ServicePage} dc=${dc} name=${rest[0]} tab=${rest[1] || 'instances'} instance=${rest[1] === 'instances' && rest[3] ? { node: rest[2], id: rest[3] } : null} />`;
    case 'overview':
      return html`<${OverviewPage} dc=${dc} />`;
    case 'nodes':
      if (rest.length === 0) return html`<${NodesPage} dc=${dc} />`;
      return html`<${NodePage} dc=${dc} name=${rest[0]} tab=${rest[1] || 'health-checks'} />`;
    case 'kv':
      return html`<${KvPage} dc=${dc} path=${rest.join('/') + (route.trailingSlash && rest.length ? '/' : '')} />`;
    case 'acls':
      return html`<${AclPage} dc=${dc} kind=${rest[0] || 'tokens'} id=${rest[1]} />`;
    default:
      return html`<${NotFound} />`;
  }
}

function App() {
  const route = useRoute();
  const [first, second] = route.segments;
  const dc = first && first !== 'setting' && first !== 'settings' ? first : null;
  const section = dc ? second || 'services' : first;
  useEffect(() => {
    document.title = [second, dc, 'Proconsul'].filter(Boolean).join(' · ');
    const heading = document.querySelector('main h1');
    if (heading) heading.focus({ preventScroll: true });
  }, [route]);
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <${Header} dc=${dc} section=${section} segments=${route.segments} />
    <main id="main" tabindex="-1"><${Page} route=${route} /></main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
