// Shared pieces of the pages: health badges, messages, tabs, a virtualised list for
// long catalogs, and an inline confirmation for destructive actions.

import { html, useEffect, useRef, useState } from '../vendor/preact-htm.js';

const LABEL = { passing: 'Passing', warning: 'Warning', critical: 'Critical' };

/** A health state as text and colour (never colour alone). */
export function Status({ status }) {
  return html`<span class="status status-${status}" data-test="status">${LABEL[status] || status}</span>`;
}

/** Counts of passing / warning / critical checks. */
export function HealthCounts({ passing = 0, warning = 0, critical = 0 }) {
  return html`<span class="health-counts" aria-label=${`${passing} passing, ${warning} warning, ${critical} critical checks`}>
    <span class="count count-passing" title="passing checks">✓ ${passing}</span>
    ${warning > 0 && html`<span class="count count-warning" title="warning checks">! ${warning}</span>`}
    ${critical > 0 && html`<span class="count count-critical" title="critical checks">✕ ${critical}</span>`}
  </span>`;
}

export function Tags({ tags }) {
  if (!tags || !tags.length) return null;
  return html`<ul class="tags" aria-label="tags">${tags.map((tag) => html`<li class="tag">${tag}</li>`)}</ul>`;
}

/** An API error as a message (never a blank page). */
export function ErrorMessage({ error, retry }) {
  if (!error) return null;
  return html`<div class="error" role="alert" data-test="error">
    <strong>${error.message}</strong>
    ${error.path && html`<div class="error-path">${error.path.split('?')[0]}</div>`}
    ${retry && html`<button type="button" onClick=${retry}>Try again</button>`}
  </div>`;
}

/** Shows the view's error, a loading line, or the view. */
export function Loaded({ state, children }) {
  if (state.data === undefined) {
    if (state.error) return html`<${ErrorMessage} error=${state.error} retry=${state.reload} />`;
    return html`<p class="loading" role="status">Loading…</p>`;
  }
  return html`${state.error && html`<${ErrorMessage} error=${state.error} />`}${children(state.data)}`;
}

/** Tabs as links, so each tab has its own URL (Consul's scheme). */
export function Tabs({ tabs, current }) {
  return html`<nav class="tabs" aria-label="sections">
    ${tabs.map(([key, label, url]) => html`<a href=${url} aria-current=${key === current ? 'page' : undefined} class=${key === current ? 'tab current' : 'tab'}>${label}</a>`)}
  </nav>`;
}

export function EmptyState({ title, children }) {
  return html`<div class="empty" data-test="empty"><h2>${title}</h2>${children}</div>`;
}

const ROW_HEIGHT = 56;
const OVERSCAN = 8;

/**
 * A list of any length: only the rows in view (plus a margin) are in the DOM, in a
 * scrolling box of fixed row height. Arrow keys move between rows' links; Home/End
 * jump to the ends.
 */
export function VirtualList({ items, renderRow, label, rowHeight = ROW_HEIGHT }) {
  const box = useRef(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  const pendingFocus = useRef(null);
  useEffect(() => {
    const element = box.current;
    const measure = () => setScroll({ top: element.scrollTop, height: element.clientHeight || 600 });
    measure();
    element.addEventListener('scroll', measure, { passive: true });
    window.addEventListener('resize', measure);
    return () => {
      element.removeEventListener('scroll', measure);
      window.removeEventListener('resize', measure);
    };
  }, []);
  const first = Math.max(0, Math.floor(scroll.top / rowHeight) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scroll.top + scroll.height) / rowHeight) + OVERSCAN);
  useEffect(() => {
    if (pendingFocus.current === null) return;
    const row = box.current.querySelector(`[data-row="${pendingFocus.current}"] a, [data-row="${pendingFocus.current}"] button`);
    if (row) {
      row.focus();
      pendingFocus.current = null;
    }
  });
  const onKeyDown = (event) => {
    const rowElement = event.target.closest('[data-row]');
    if (!rowElement) return;
    const at = Number(rowElement.dataset.row);
    let to = null;
    if (event.key === 'ArrowDown') to = Math.min(items.length - 1, at + 1);
    else if (event.key === 'ArrowUp') to = Math.max(0, at - 1);
    else if (event.key === 'Home') to = 0;
    else if (event.key === 'End') to = items.length - 1;
    else if (event.key === 'PageDown') to = Math.min(items.length - 1, at + Math.floor(scroll.height / rowHeight));
    else if (event.key === 'PageUp') to = Math.max(0, at - Math.floor(scroll.height / rowHeight));
    if (to === null) return;
    event.preventDefault();
    const element = box.current;
    if (to * rowHeight < element.scrollTop) element.scrollTop = to * rowHeight;
    else if ((to + 1) * rowHeight > element.scrollTop + element.clientHeight) element.scrollTop = (to + 1) * rowHeight - element.clientHeight;
    const rendered = element.querySelector(`[data-row="${to}"] a, [data-row="${to}"] button`);
    if (rendered) rendered.focus();
    else pendingFocus.current = to;
    setScroll({ top: element.scrollTop, height: element.clientHeight || 600 });
  };
  const rows = [];
  for (let i = first; i < last; i += 1) {
    rows.push(html`<li class="vrow" data-row=${i} style=${{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }} aria-setsize=${items.length} aria-posinset=${i + 1}>${renderRow(items[i], i)}</li>`);
  }
  return html`<div class="vlist" ref=${box} onKeyDown=${onKeyDown} data-test="vlist">
    <ul aria-label=${label} style=${{ height: `${items.length * rowHeight}px` }}>${rows}</ul>
  </div>`;
}

/** A destructive button that asks once more, inline. */
export function ConfirmButton({ label, question, confirmLabel = label, onConfirm, disabled }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef(null);
  useEffect(() => {
    if (asking && confirmRef.current) confirmRef.current.focus();
  }, [asking]);
  if (!asking) {
    return html`<button type="button" class="danger" disabled=${disabled} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return html`<span class="confirm" role="group" aria-label="confirm">
    <span>${question}</span>
    <button type="button" class="danger" ref=${confirmRef} disabled=${busy} onClick=${confirm}>${confirmLabel}</button>
    <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

/** A labelled search field. */
export function SearchBox({ value, onInput, label, placeholder }) {
  return html`<label class="search"><span class="visually-hidden">${label}</span>
    <input type="search" value=${value} placeholder=${placeholder || label} onInput=${(event) => onInput(event.target.value)} />
  </label>`;
}
