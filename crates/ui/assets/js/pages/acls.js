// /ui/:dc/acls/{tokens,policies,roles}[/:id|/create]: list, read, create, edit and
// delete ACL tokens, policies and roles; "Use this token" logs the UI in with one.

import { html, useEffect, useMemo, useState } from '../../vendor/preact-htm.js';
import { request, withQuery } from '../api.js';
import { useLive } from '../live.js';
import { href, navigate } from '../route.js';
import { ConfirmButton, ErrorMessage, Loaded, SearchBox, Tabs, EmptyState } from '../components.js';
import { saveToken, token } from '../settings.js';

const names = (links) => (links || []).map((link) => link.Name).join(', ');
const splitNames = (text) => text.split(',').map((name) => name.trim()).filter(Boolean).map((Name) => ({ Name }));

/** What differs between the three kinds: paths, columns and editable fields. */
const KINDS = {
  tokens: {
    title: 'Tokens', one: 'token', list: '/v1/acl/tokens', item: '/v1/acl/token', id: 'AccessorID',
    label: (token) => token.Description || token.AccessorID,
    summary: (token) => [token.AccessorID, names(token.Policies) && `policies: ${names(token.Policies)}`, names(token.Roles) && `roles: ${names(token.Roles)}`, token.Local && 'local'].filter(Boolean).join(' · '),
    fields: [['Description', 'text'], ['Policies', 'links'], ['Roles', 'links'], ['Local', 'bool']],
  },
  policies: {
    title: 'Policies', one: 'policy', list: '/v1/acl/policies', item: '/v1/acl/policy', id: 'ID',
    label: (policy) => policy.Name,
    summary: (policy) => [policy.Description, policy.ID].filter(Boolean).join(' · '),
    fields: [['Name', 'text'], ['Description', 'text'], ['Rules', 'code']],
  },
  roles: {
    title: 'Roles', one: 'role', list: '/v1/acl/roles', item: '/v1/acl/role', id: 'ID',
    label: (role) => role.Name,
    summary: (role) => [role.Description, names(role.Policies) && `policies: ${names(role.Policies)}`].filter(Boolean).join(' · '),
    fields: [['Name', 'text'], ['Description', 'text'], ['Policies', 'links']],
  },
};

function AclList({ dc, kind }) {
  const spec = KINDS[kind];
  const state = useLive(withQuery(spec.list, { dc }));
  const [search, setSearch] = useState('');
  const shown = useMemo(() => {
    const needle = search.toLowerCase();
    return (state.data || []).filter((item) => !needle || `${spec.label(item)} ${spec.summary(item)}`.toLowerCase().includes(needle));
  }, [state.data, search, kind]);
  return html`<div class="toolbar">
      <a class="button primary" href=${href(dc, 'acls', kind, 'create')} data-test="acl-create">Create ${spec.one}</a>
      <${SearchBox} value=${search} onInput=${setSearch} label=${`Search ${spec.title.toLowerCase()}`} />
    </div>
    <${Loaded} state=${state}>${() => (shown.length === 0
      ? html`<${EmptyState} title=${`No ${spec.title.toLowerCase()}`} />`
      : html`<ul class="plain-list" aria-label=${spec.title}>${shown.map((item) => html`<li class="card" data-test="acl-row">
          <a href=${href(dc, 'acls', kind, item[spec.id])}><strong>${spec.label(item)}</strong></a>
          <div class="muted">${spec.summary(item)}</div></li>`)}</ul>`)}<//>`;
}

/** The editable form of an item (links as comma-separated names). */
function toForm(spec, item) {
  const form = {};
  for (const [field, type] of spec.fields) {
    if (type === 'links') form[field] = names(item[field]);
    else if (type === 'bool') form[field] = !!item[field];
    else form[field] = item[field] || '';
  }
  return form;
}

function fromForm(spec, form) {
  const body = {};
  for (const [field, type] of spec.fields) body[field] = type === 'links' ? splitNames(form[field]) : form[field];
  return body;
}

function AclEditor({ dc, kind, id }) {
  const spec = KINDS[kind];
  const creating = id === 'create';
  const state = useLive(creating ? null : withQuery(`${spec.item}/${id}`, { dc }), { live: false });
  const [form, setForm] = useState(creating ? toForm(spec, {}) : null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(null);
  useEffect(() => {
    if (state.data) setForm(toForm(spec, state.data));
  }, [state.data]);
  if (!creating && state.data === undefined) return html`<${Loaded} state=${state}>${() => null}<//>`;
  if (!form) return null;
  const set = (field, value) => setForm({ ...form, [field]: value });
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const path = creating ? spec.item : `${spec.item}/${id}`;
      const { body } = await request(withQuery(path, { dc }), { method: 'PUT', body: fromForm(spec, form) });
      setSaved(`Saved ${spec.one} ${spec.label(body)}.`);
      if (creating) navigate(href(dc, 'acls', kind, body[spec.id]), { replace: true });
      else state.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const item = state.data || {};
  const current = token();
  return html`
    <h2>${creating ? `New ${spec.one}` : spec.label(item)}</h2>
    ${kind === 'tokens' && !creating && html`<dl class="facts">
      <dt>AccessorID</dt><dd><code>${item.AccessorID}</code></dd>
      <dt>SecretID</dt><dd><code data-test="secret">${item.SecretID || 'hidden'}</code></dd></dl>
      ${item.SecretID && html`<div class="actions">
        <button type="button" data-test="use-token" disabled=${current && current.SecretID === item.SecretID}
          onClick=${() => saveToken({ AccessorID: item.AccessorID, SecretID: item.SecretID })}>${current && current.SecretID === item.SecretID ? 'In use by this UI' : 'Use this token'}</button></div>`}`}
    <form class="editor" onSubmit=${submit} data-test="acl-form">
      ${spec.fields.map(([field, type]) => (type === 'bool'
        ? html`<label class="inline"><input type="checkbox" checked=${form[field]} disabled=${!creating} onChange=${(event) => set(field, event.target.checked)} /> ${field} (this datacenter only)</label>`
        : type === 'code'
          ? html`<label>${field}<textarea rows="10" spellcheck="false" value=${form[field]} onInput=${(event) => set(field, event.target.value)} data-test=${`acl-${field}`}></textarea></label>`
          : html`<label>${field}${type === 'links' ? ' (names, comma-separated)' : ''}<input type="text" value=${form[field]} onInput=${(event) => set(field, event.target.value)} data-test=${`acl-${field}`} /></label>`))}
      <${ErrorMessage} error=${error} />
      ${saved && html`<p role="status">${saved}</p>`}
      <div class="actions">
        <button type="submit" class="primary" data-test="acl-save">Save</button>
        ${!creating && html`<${ConfirmButton} label="Delete" question=${`Delete this ${spec.one}?`} onConfirm=${async () => {
          try {
            await request(withQuery(`${spec.item}/${id}`, { dc }), { method: 'DELETE' });
            navigate(href(dc, 'acls', kind));
          } catch (failure) {
            setError(failure);
          }
        }} />`}
        <a class="button" href=${href(dc, 'acls', kind)}>Back to ${spec.title.toLowerCase()}</a>
      </div>
    </form>`;
}

export function AclPage({ dc, kind, id }) {
  if (!KINDS[kind]) return html`<${EmptyState} title="Page not found" />`;
  const tabs = Object.entries(KINDS).map(([key, spec]) => [key, spec.title, href(dc, 'acls', key)]);
  return html`<section>
    <h1 tabindex="-1">Access Controls</h1>
    <${Tabs} tabs=${tabs} current=${kind} />
    ${id ? html`<${AclEditor} key=${`${kind}/${id}`} dc=${dc} kind=${kind} id=${id} />` : html`<${AclList} dc=${dc} kind=${kind} />`}
  </section>`;
}
