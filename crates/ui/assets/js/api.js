// The UI's only way to the agent: Consul's public HTTP API (and /v1/internal/ui/*),
// with the saved token, errors turned into messages, and blocking queries limited to
// three in flight per tab and stopped while the tab is hidden.

import { token } from './settings.js';

/** An answer other than 2xx, with the agent's own text (Consul's errors are plain text). */
export class ApiError extends Error {
  constructor(status, text, path) {
    super(describe(status, text));
    this.status = status;
    this.text = text;
    this.path = path;
  }
}

function describe(status, text) {
  const body = (text || '').trim();
  if (status === 0) return `The agent did not answer${body ? `: ${body}` : ''}`;
  if (status === 403) {
    if (/^permission denied/i.test(body)) return `${body} (403)`;
    return `Permission denied (403): ${body || 'the token lacks a permission this page needs'}`;
  }
  if (status === 401) return `Not allowed (401): ${body || 'ACL support is disabled'}`;
  if (status === 404) return `Not found (404)${body ? `: ${body}` : ''}`;
  return `Error ${status}${body ? `: ${body}` : ''}`;
}

/** `path` with `params` added (values are encoded; null and undefined are skipped). */
export function withQuery(path, params = {}) {
  const parts = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === false) continue;
    parts.push(value === true ? encodeURIComponent(key) : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  }
  if (!parts.length) return path;
  return path + (path.includes('?') ? '&' : '?') + parts.join('&');
}

/** Encodes each segment of a slash-separated name (KV keys, service names). */
export function encodePath(name) {
  return name.split('/').map(encodeURIComponent).join('/');
}

/**
 * One request: resolves to {body, index} (`body` parsed as JSON unless `raw`), throws
 * ApiError otherwise. `options.body` that is not a string is sent as JSON.
 */
export async function request(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const saved = token();
  if (saved && !('X-Consul-Token' in headers)) headers['X-Consul-Token'] = saved.SecretID;
  let body = options.body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Blob)) body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(path, { method: options.method || 'GET', headers, body, signal: options.signal, cache: 'no-store' });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, error.message, path);
  }
  const text = await response.text();
  // A missing key or folder is an answer, not an error, where the caller says so.
  if (response.status === 404 && options.missingOk) {
    return { body: null, index: Number(response.headers.get('X-Consul-Index')) || 0 };
  }
  if (!response.ok) throw new ApiError(response.status, text, path);
  const index = Number(response.headers.get('X-Consul-Index')) || 0;
  if (options.raw) return { body: text, index };
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch (_) {
      throw new ApiError(response.status, `unreadable answer: ${text.slice(0, 200)}`, path);
    }
  }
  return { body: parsed, index };
}

// --- blocking queries -------------------------------------------------------------

const MAX_BLOCKING = 3;
let inFlight = 0;
const waiting = [];
const running = new Set();

function acquire() {
  if (inFlight < MAX_BLOCKING) {
    inFlight += 1;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.push(resolve));
}

function release() {
  const next = waiting.shift();
  if (next) next();
  else inFlight -= 1;
}

/** How many blocking queries are in flight (tests read it through window). */
export function blockingInFlight() {
  return running.size;
}
window.__proconsulBlocking = blockingInFlight;

/** Resolves when the tab is visible (at once if it is). */
export function whenVisible(signal) {
  if (!document.hidden) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (!document.hidden || (signal && signal.aborted)) {
        document.removeEventListener('visibilitychange', check);
        resolve();
      }
    };
    document.addEventListener('visibilitychange', check);
    if (signal) signal.addEventListener('abort', check, { once: true });
  });
}

// A hidden tab holds no connection: its queries are aborted and resume when shown.
document.addEventListener('visibilitychange', () => {
  if (document.hidden) for (const controller of running) controller.abort();
});

/**
 * A blocking query: waits (up to `wait`, Consul's default 5 minutes, so an idle tab costs
 * the agent one answer per view every 5 minutes) for `path` to change past `index`. At most
 * three run at once; the rest queue. Resolves to {body, index}, or null when the tab
 * was hidden meanwhile (the caller asks again once it is visible).
 */
export async function blockingRequest(path, index, signal, { wait = '5m', missingOk = false } = {}) {
  await whenVisible(signal);
  await acquire();
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (signal) signal.addEventListener('abort', abort, { once: true });
  running.add(controller);
  try {
    if (signal && signal.aborted) throw new DOMException('aborted', 'AbortError');
    return await request(withQuery(path, { index, wait }), { signal: controller.signal, missingOk });
  } catch (error) {
    if (error.name === 'AbortError' && !(signal && signal.aborted)) return null;
    throw error;
  } finally {
    running.delete(controller);
    if (signal) signal.removeEventListener('abort', abort);
    release();
  }
}
