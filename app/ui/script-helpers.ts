/**
 * The status page's DOM and formatting helpers, inlined into STATUS_PAGE_SCRIPT (script.ts)
 * inside its closure, after its constants (they use numberFormat). Plain browser JavaScript
 * kept as a string, like the script: no backticks and no dollar-brace sequences inside,
 * but for the one that inlines the byte formatter shared with the CLI.
 */
import { humanBytes } from '../../connectors/common/format-bytes.js';

export const STATUS_PAGE_HELPERS = String.raw`  const byId = (id) => document.getElementById(id);

  function el(tag, options, children) {
    const node = document.createElement(tag);
    const opts = options || {};
    for (const [name, value] of Object.entries(opts)) {
      if (value === undefined || value === null) continue;
      if (name === 'text') node.textContent = String(value);
      else if (name === 'className') node.className = value;
      else if (name === 'testid') node.setAttribute('data-testid', value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children || []) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);

  function formatCount(v) {
    if (isNumber(v)) return numberFormat.format(v);
    if (typeof v === 'string' && v !== '') return v;
    return '–';
  }

  ${humanBytes.toString()}

  function formatBytes(n) {
    return isNumber(n) ? humanBytes(n) : '–';
  }

  function toDate(v) {
    if (v === undefined || v === null || v === '') return undefined;
    const date = new Date(typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }

  function timeElement(v, testid) {
    const date = toDate(v);
    if (!date) return el('span', { text: v === undefined || v === null ? '–' : String(v), testid });
    return el('time', { datetime: date.toISOString(), text: date.toLocaleString(), testid });
  }

  /** Offsets may arrive as numbers or as decimal strings (64-bit values). */
  function toBigInt(v) {
    if (typeof v === 'bigint') return v;
    if (isNumber(v) && Number.isInteger(v)) return BigInt(v);
    if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return BigInt(v);
    return undefined;
  }

  function stateBadge(state, testid) {
    const name = typeof state === 'string' && state ? state : 'UNKNOWN';
    const known = KNOWN_STATES.includes(name) ? name.toLowerCase() : 'unknown';
    return el('span', { className: 'state state-' + known, text: name, testid, 'data-state': name });
  }

  function traceDetails(trace, key, label) {
    const details = el('details', { className: 'trace', testid: 'task-trace' }, [
      el('summary', { text: label }),
      el('pre', { text: trace }),
    ]);
    details.open = openTraces.has(key);
    details.addEventListener('toggle', () => {
      if (details.open) openTraces.add(key);
      else openTraces.delete(key);
    });
    return details;
  }

  /** BackupSink tasks: progress.partitions = [{topic, partition, committed_offset, end_offset, lag}]. */`;
