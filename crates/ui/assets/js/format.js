// Small pure helpers the pages share: health states, sorting, sizes.

/** Worst of a list of check statuses (`passing` when there are none). */
export function worstStatus(checks) {
  let worst = 'passing';
  for (const check of checks || []) {
    if (check.Status === 'critical') return 'critical';
    if (check.Status === 'warning') worst = 'warning';
  }
  return worst;
}

const RANK = { critical: 0, warning: 1, passing: 2 };

/** Orders by health (worst first), then by `name`. */
export function byStatusThenName(status, name) {
  return (a, b) => (RANK[status(a)] - RANK[status(b)]) || compareNames(name(a), name(b));
}

export function compareNames(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function plural(count, one, many = `${one}s`) {
  return `${count.toLocaleString('en')} ${count === 1 ? one : many}`;
}

export function bytes(count) {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(1)} MiB`;
}

/** Decodes a KV value (base64) to text, or null when it is not UTF-8. */
export function decodeValue(base64) {
  if (!base64) return '';
  const binary = atob(base64);
  const raw = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) raw[i] = binary.charCodeAt(i);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (_) {
    return null;
  }
}

/** Encodes text as UTF-8 base64 (the form /v1/txn and `consul kv export` carry). */
export function encodeValue(text) {
  const raw = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < raw.length; i += 0x8000) binary += String.fromCharCode(...raw.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The byte length of a base64 value. */
export function base64Length(base64) {
  if (!base64) return 0;
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length * 3) / 4 - padding;
}
