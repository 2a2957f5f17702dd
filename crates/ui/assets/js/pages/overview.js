// /ui/:dc/overview: the servers, the leader and the health totals of the datacenter.

import { html } from '../../vendor/preact-htm.js';
import { withQuery } from '../api.js';
import { useLive } from '../live.js';
import { Loaded, ErrorMessage } from '../components.js';

function Totals({ title, summary }) {
  const row = summary || { Total: 0, Passing: 0, Warning: 0, Critical: 0 };
  return html`<div class="card totals" data-test=${`totals-${title.toLowerCase()}`}>
    <h2 class="card-title">${title}</h2>
    <p class="big">${row.Total}</p>
    <p><span class="count count-passing">✓ ${row.Passing} passing</span>
      <span class="count count-warning">! ${row.Warning} warning</span>
      <span class="count count-critical">✕ ${row.Critical} critical</span></p>
  </div>`;
}

function sum(rows) {
  return (rows || []).reduce((total, row) => ({
    Total: total.Total + row.Total, Passing: total.Passing + row.Passing,
    Warning: total.Warning + row.Warning, Critical: total.Critical + row.Critical,
  }), { Total: 0, Passing: 0, Warning: 0, Critical: 0 });
}

export function OverviewPage({ dc }) {
  const peers = useLive(withQuery('/v1/status/peers', { dc }), { live: false });
  const leader = useLive(withQuery('/v1/status/leader', { dc }), { live: false });
  const overview = useLive(withQuery('/v1/internal/ui/catalog-overview', { dc }));
  return html`<section>
    <h1 tabindex="-1">Overview of ${dc}</h1>
    <h2>Servers</h2>
    <${Loaded} state=${peers}>${(list) => html`<ul class="plain-list" data-test="servers">
      ${(list || []).map((peer) => html`<li>${peer} ${peer === leader.data && html`<span class="badge leader">Leader</span>`}</li>`)}
    </ul>
    ${!leader.data && leader.data !== undefined && html`<p class="error" role="alert">This datacenter has no leader.</p>`}`}<//>
    <h2>Health</h2>
    ${overview.error && overview.data === undefined
      ? html`<${ErrorMessage} error=${overview.error} />`
      : html`<${Loaded} state=${overview}>${(summary) => html`<div class="cards grid">
          <${Totals} title="Nodes" summary=${sum(summary.Nodes)} />
          <${Totals} title="Services" summary=${sum(summary.Services)} />
          <${Totals} title="Checks" summary=${sum(summary.Checks)} />
        </div>`}<//>`}
  </section>`;
}
