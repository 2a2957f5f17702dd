// /ui/:dc/kv/*: browse folders (breadcrumbs), read a key (read view first, Edit
// button), create keys and folders, edit with check-and-set so two editors cannot
// silently overwrite each other, delete (folders recursively, after a confirmation),
// search the whole tree, and export/import a folder in `consul kv export` JSON.

import { html, useEffect, useMemo, useRef, useState } from '../../vendor/preact-htm.js';
import { encodePath, request, withQuery } from '../api.js';
import { useLive } from '../live.js';
import { href, navigate } from '../route.js';
import { ConfirmButton, ErrorMessage, Loaded, SearchBox, VirtualList, EmptyState } from '../components.js';
import { base64Length, bytes, decodeValue, encodeValue, plural } from '../format.js';

/** What a KV URL path names: a folder, a key, a key's editor or the create form. */
export function parseKvPath(path) {
  if (path === '' || path.endsWith('/')) return { view: 'folder', folder: path };
  if (path === 'create' || path.endsWith('/create')) return { view: 'create', folder: path.slice(0, -'create'.length) };
  if (path.endsWith('/edit')) return { view: 'edit', key: path.slice(0, -'/edit'.length) };
  return { view: 'key', key: path };
}

const kvUrl = (dc, path, params = {}) => withQuery(`/v1/kv/${encodePath(path)}`, { dc, ...params });
const kvHref = (dc, path) => (path === '' ? `${href(dc, 'kv')}/` : href(dc, 'kv', path));
const parentOf = (key) => key.replace(/[^/]*\/?$/, '');

/** Root › a › b as links. */
function Breadcrumbs({ dc, path }) {
  const parts = path.split('/').filter(Boolean);
  const folders = path.endsWith('/') ? parts : parts.slice(0, -1);
  return html`<nav class="crumbs" aria-label="breadcrumbs"><ol>
    <li><a href=${kvHref(dc, '')}>Key/Value</a></li>
    ${folders.map((part, i) => html`<li><a href=${kvHref(dc, `${folders.slice(0, i + 1).join('/')}/`)}>${part}</a></li>`)}
  </ol></nav>`;
}

/** The `consul kv export` form of KV entries. */
export function toExport(entries) {
  return (entries || []).map((entry) => ({ key: entry.Key, flags: entry.Flags || 0, value: entry.Value || '' }));
}

/** Checks a `consul kv export` document; returns its entries or throws a message. */
export function parseExport(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`The file is not JSON: ${error.message}`);
  }
  if (!Array.isArray(parsed)) throw new Error('The file is not a `consul kv export` list.');
  for (const entry of parsed) {
    if (!entry || typeof entry.key !== 'string' || entry.key === '') throw new Error('An entry has no "key".');
    if (entry.value !== undefined && entry.value !== null && typeof entry.value !== 'string') throw new Error(`The value of ${entry.key} is not base64 text.`);
  }
  return parsed;
}

function ExportImport({ dc, folder, onImported }) {
  const [message, setMessage] = useState(null);
  const [error, setError] = useState(null);
  const file = useRef(null);
  const exportFolder = async () => {
    setError(null);
    try {
      const { body } = await request(kvUrl(dc, folder, { recurse: true }), { missingOk: true });
      const blob = new Blob([JSON.stringify(toExport(body), null, 2)], { type: 'application/json' });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `kv-export${folder ? `-${folder.replace(/\/$/, '').replace(/\//g, '-')}` : ''}.json`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      setMessage(`Exported ${plural((body || []).length, 'key')}.`);
    } catch (failure) {
      setError(failure);
    }
  };
  const importFile = async (event) => {
    setError(null);
    setMessage(null);
    const chosen = event.target.files[0];
    if (!chosen) return;
    try {
      const entries = parseExport(await chosen.text());
      // Transactions of at most 64 operations, as `consul kv import` does.
      for (let i = 0; i < entries.length; i += 64) {
        const operations = entries.slice(i, i + 64).map((entry) => ({
          KV: { Verb: 'set', Key: entry.key, Value: entry.value || '', Flags: entry.flags || 0 },
        }));
        await request(withQuery('/v1/txn', { dc }), { method: 'PUT', body: operations });
      }
      setMessage(`Imported ${plural(entries.length, 'key')}.`);
      onImported();
    } catch (failure) {
      setError(failure);
    } finally {
      if (file.current) file.current.value = '';
    }
  };
  return html`<div class="actions">
    <button type="button" onClick=${exportFolder} data-test="kv-export">Export ${folder || 'all keys'}</button>
    <label class="button">Import…<input type="file" accept=".json,application/json" class="visually-hidden" ref=${file} onChange=${importFile} data-test="kv-import" /></label>
    ${message && html`<span role="status" data-test="kv-message">${message}</span>`}
    <${ErrorMessage} error=${error} />
  </div>`;
}

/** Every key in the datacenter containing `needle` (read once, filtered here). */
function TreeSearch({ dc, needle }) {
  const all = useLive(kvUrl(dc, '', { keys: true }), { live: false, missingOk: true });
  const found = useMemo(() => (all.data || []).filter((key) => key.toLowerCase().includes(needle.toLowerCase())), [all.data, needle]);
  return html`<${Loaded} state=${all}>${() => (found.length === 0
    ? html`<p class="muted" data-test="kv-search-empty">No key in ${dc} contains “${needle}”.</p>`
    : html`<p class="count-line" aria-live="polite">${plural(found.length, 'key')} found in the whole tree</p>
      <${VirtualList} label="keys found" items=${found} rowHeight=${40} renderRow=${(key) => html`<a class="row-link" href=${kvHref(dc, key)} data-test="kv-search-result">${key}</a>`} />`)}<//>`;
}

function Folder({ dc, folder }) {
  const state = useLive(kvUrl(dc, folder, { keys: true, separator: '/' }), { missingOk: true });
  const [search, setSearch] = useState('');
  const children = (state.data || []).filter((key) => key !== folder);
  return html`<section>
    <${Breadcrumbs} dc=${dc} path=${folder} />
    <h1 tabindex="-1">${folder ? folder.split('/').slice(-2, -1)[0] + '/' : 'Key/Value'}</h1>
    <div class="toolbar">
      <a class="button primary" href=${href(dc, 'kv', `${folder}create`)} data-test="kv-create">Create</a>
      ${folder && html`<${ConfirmButton} label="Delete folder" question=${`Delete ${folder} and every key under it?`}
        onConfirm=${async () => {
          await request(kvUrl(dc, folder, { recurse: true }), { method: 'DELETE' });
          navigate(kvHref(dc, parentOf(folder)));
        }} />`}
      <${SearchBox} value=${search} onInput=${setSearch} label="Search all keys" />
    </div>
    <${ExportImport} dc=${dc} folder=${folder} onImported=${state.reload} />
    ${search.trim()
      ? html`<${TreeSearch} dc=${dc} needle=${search.trim()} />`
      : html`<${Loaded} state=${state}>${() => (children.length === 0
        ? html`<${EmptyState} title="No keys here"><p>Create a key or a folder (a name ending in “/”).</p><//>`
        : html`<${VirtualList} label="keys" items=${children} rowHeight=${40} renderRow=${(key) => html`<a class="row-link kv-${key.endsWith('/') ? 'folder' : 'key'}" href=${kvHref(dc, key)} data-test="kv-row">
            <span>${key.slice(folder.length)}</span>${key.endsWith('/') && html`<span class="kind">folder</span>`}</a>`} />`)}<//>`}
  </section>`;
}

const PREVIEW = 64 * 1024;

/** A value shown as text; long ones are cut until asked, so the page stays responsive. */
function ValueView({ entry }) {
  const [whole, setWhole] = useState(false);
  const text = decodeValue(entry.Value);
  const size = base64Length(entry.Value);
  if (text === null) return html`<p class="muted">Binary value (${bytes(size)}), base64:</p><pre class="value">${entry.Value.slice(0, PREVIEW)}</pre>`;
  const cut = !whole && text.length > PREVIEW;
  return html`<pre class="value" data-test="kv-value">${cut ? text.slice(0, PREVIEW) : text}</pre>
    ${cut && html`<button type="button" onClick=${() => setWhole(true)}>Show the whole value (${bytes(size)})</button>`}`;
}

function KeyView({ dc, keyName }) {
  const state = useLive(kvUrl(dc, keyName), { missingOk: true });
  return html`<section>
    <${Breadcrumbs} dc=${dc} path=${keyName} />
    <h1 tabindex="-1">${keyName.split('/').pop()}</h1>
    <${Loaded} state=${state}>${(entries) => {
      if (!entries || !entries.length) return html`<${EmptyState} title="This key does not exist"><p><a href=${kvHref(dc, parentOf(keyName))}>Back to the folder</a></p><//>`;
      const entry = entries[0];
      return html`<div class="toolbar">
          <a class="button primary" href=${href(dc, 'kv', keyName, 'edit')} data-test="kv-edit">Edit</a>
          <${ConfirmButton} label="Delete" question=${`Delete ${keyName}?`} onConfirm=${async () => {
            await request(kvUrl(dc, keyName, { cas: entry.ModifyIndex }), { method: 'DELETE' });
            navigate(kvHref(dc, parentOf(keyName)));
          }} />
        </div>
        <dl class="facts">
          <dt>Key</dt><dd><code>${entry.Key}</code></dd>
          <dt>Flags</dt><dd data-test="kv-flags">${entry.Flags}</dd>
          <dt>Size</dt><dd>${bytes(base64Length(entry.Value))}</dd>
          <dt>Modify index</dt><dd>${entry.ModifyIndex}</dd>
          ${entry.Session && html`<dt>Locked by session</dt><dd><code>${entry.Session}</code></dd>`}
        </dl>
        <${ValueView} entry=${entry} />`;
    }}<//>
  </section>`;
}

/** The editor: saves with `?cas=<ModifyIndex it was opened at>`; a conflict is shown. */
function Editor({ dc, keyName, creating, folder }) {
  const original = useLive(creating ? null : kvUrl(dc, keyName), { live: false, missingOk: true });
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [flags, setFlags] = useState(0);
  const [since, setSince] = useState(0);
  const [conflict, setConflict] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const entry = original.data && original.data[0];
    if (entry) {
      setValue(decodeValue(entry.Value) ?? '');
      setFlags(entry.Flags || 0);
      setSince(entry.ModifyIndex);
    }
  }, [original.data]);
  const target = creating ? folder + name : keyName;
  const save = async (cas) => {
    setBusy(true);
    setError(null);
    try {
      const isFolder = creating && target.endsWith('/');
      const { body } = await request(kvUrl(dc, target, { cas, flags: flags || undefined }), { method: 'PUT', body: isFolder ? '' : value });
      if (body === true) {
        navigate(kvHref(dc, target));
        return;
      }
      // Someone else wrote (or deleted) the key since it was opened: show theirs.
      const { body: theirs } = await request(kvUrl(dc, target), { missingOk: true });
      setConflict(theirs && theirs[0] ? theirs[0] : { deleted: true });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event) => {
    event.preventDefault();
    if (creating && !name.trim()) {
      setError(new Error('Give the key or folder a name.'));
      return;
    }
    save(creating ? 0 : since);
  };
  if (!creating && original.data === undefined) return html`<${Loaded} state=${original}>${() => null}<//>`;
  if (!creating && original.data === null) return html`<${EmptyState} title="This key does not exist" />`;
  return html`<section>
    <${Breadcrumbs} dc=${dc} path=${creating ? folder : keyName} />
    <h1 tabindex="-1">${creating ? `Create in ${folder || 'the root'}` : `Edit ${keyName}`}</h1>
    <form class="editor" onSubmit=${submit}>
      ${creating && html`<label>Key or folder name (a folder ends with “/”)
        <input type="text" value=${name} required onInput=${(event) => setName(event.target.value)} data-test="kv-name" autocomplete="off" /></label>`}
      ${!(creating && name.endsWith('/')) && html`<label>Value
        <textarea rows="12" spellcheck="false" value=${value} onInput=${(event) => setValue(event.target.value)} data-test="kv-textarea"></textarea></label>
        <label>Flags <input type="number" min="0" value=${flags} onInput=${(event) => setFlags(Number(event.target.value) || 0)} /></label>`}
      <${ErrorMessage} error=${error} />
      ${conflict && html`<div class="conflict" role="alert" data-test="kv-conflict">
        ${conflict.deleted
          ? html`<strong>${creating ? 'Could not create the key.' : 'Someone deleted this key while you were editing it.'}</strong>`
          : html`<strong>${creating ? `${target} already exists.` : 'Someone else changed this key while you were editing it.'}</strong>
            <p>Their value (modify index ${conflict.ModifyIndex}):</p><pre class="value" data-test="kv-their-value">${decodeValue(conflict.Value) ?? '(binary)'}</pre>`}
        <button type="button" class="danger" disabled=${busy} data-test="kv-overwrite"
          onClick=${() => { const at = conflict.deleted ? 0 : conflict.ModifyIndex; setConflict(null); save(at); }}>Save mine anyway</button>
        <a class="button" href=${kvHref(dc, target)}>Discard mine</a>
      </div>`}
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy} data-test="kv-save">Save</button>
        <a class="button" href=${creating ? kvHref(dc, folder) : kvHref(dc, keyName)}>Cancel</a>
      </div>
    </form>
  </section>`;
}

export function KvPage({ dc, path }) {
  const where = parseKvPath(path);
  switch (where.view) {
    case 'folder': return html`<${Folder} key=${where.folder} dc=${dc} folder=${where.folder} />`;
    case 'create': return html`<${Editor} key=${`create:${where.folder}`} dc=${dc} creating=${true} folder=${where.folder} />`;
    case 'edit': return html`<${Editor} key=${`edit:${where.key}`} dc=${dc} keyName=${where.key} />`;
    default: return html`<${KeyView} key=${where.key} dc=${dc} keyName=${where.key} />`;
  }
}
