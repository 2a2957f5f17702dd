// The UI's URLs, as Consul's UI spells them (`/ui/dc1/services/web/instances`), and
// History-API navigation: links are plain <a href>, and clicks on them are turned into
// pushState so the page does not reload.

import { useEffect, useState } from '../vendor/preact-htm.js';

/** Where the app is mounted (`/ui/`), from index.html. */
export const base = document.getElementById('app').dataset.contentPath || '/ui/';

/** A URL inside the app from its segments (each encoded; `/` inside a segment kept as a separator when `keepSlashes`). */
export function href(...segments) {
  return base + segments.map((segment) => String(segment).split('/').map(encodeURIComponent).join('/')).join('/');
}

/** The current location split into decoded segments, with whether it ended in `/`. */
export function currentRoute() {
  let path = window.location.pathname;
  if (path.startsWith(base)) path = path.slice(base.length);
  else path = '';
  const trailingSlash = path.endsWith('/');
  const segments = path.split('/').filter((segment, i, all) => segment !== '' || (i > 0 && i < all.length - 1)).map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch (_) {
      return segment;
    }
  });
  return { segments, trailingSlash, search: new URLSearchParams(window.location.search) };
}

const listeners = new Set();

/** Goes to `url` inside the app (replacing the history entry with `replace`). */
export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const listener of listeners) listener();
  if (!replace) window.scrollTo(0, 0);
}

/** Re-renders on navigation; returns the current route. */
export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

// Same-origin links inside the app navigate without a reload.
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin || !url.pathname.startsWith(base)) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});
