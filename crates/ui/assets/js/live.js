// useLive: a view's data, kept current. The first answer comes from a plain request;
// then, with blocking queries on (Settings), the view long-polls with the index of the
// last answer (X-Consul-Index) until it unmounts. Errors are kept beside the last
// good data and retried with a growing pause.

import { useEffect, useState, useCallback } from '../vendor/preact-htm.js';
import { request, blockingRequest, whenVisible } from './api.js';
import { blockingEnabled, onSettingsChange, token } from './settings.js';

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

/**
 * `{data, error, loading, index, reload}` for `path` (null: nothing to load). With
 * `live: false` the path is read once (and on `reload`); with `missingOk` a 404 is
 * data `null`.
 */
export function useLive(path, { live = true, missingOk = false } = {}) {
  const [state, setState] = useState({ data: undefined, error: null, loading: !!path, index: 0 });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);

  // A new token or blocking setting restarts every view's queries.
  useEffect(() => onSettingsChange(reload), [reload]);

  useEffect(() => {
    if (!path) {
      setState({ data: undefined, error: null, loading: false, index: 0 });
      return undefined;
    }
    const controller = new AbortController();
    const { signal } = controller;
    setState((previous) => (previous.path === path
      ? { ...previous, loading: true, error: null }
      : { data: undefined, error: null, loading: true, index: 0, path }));
    (async () => {
      let index = 0;
      let failures = 0;
      while (!signal.aborted) {
        try {
          const answer = index === 0
            ? await request(path, { signal, missingOk })
            : await blockingRequest(path, index, signal, { missingOk });
          if (signal.aborted) return;
          if (answer) {
            failures = 0;
            // An index that went backwards (a restarted agent) starts over, as Consul's clients do.
            const next = answer.index > 0 && answer.index >= index ? answer.index : 0;
            if (index === 0 || answer.index !== index) {
              setState({ data: answer.body, error: null, loading: false, index: answer.index, path });
            }
            index = next;
          }
          if (!live || !blockingEnabled() || index === 0) return;
        } catch (error) {
          if (signal.aborted || error.name === 'AbortError') return;
          failures += 1;
          setState((previous) => ({ ...previous, error, loading: false }));
          index = 0;
          if (!live || !blockingEnabled()) return;
          // 403/404 will not mend by themselves quickly: retry slowly.
          const pause = error.status === 403 || error.status === 404 || error.status === 401 ? 30000 : Math.min(30000, 1000 * 2 ** failures);
          await sleep(pause, signal);
          await whenVisible(signal);
        }
      }
    })();
    return () => controller.abort();
  }, [path, live, missingOk, generation, token() && token().SecretID]);

  if (state.path !== path) return { data: undefined, error: null, loading: !!path, index: 0, reload };
  return { ...state, reload };
}
