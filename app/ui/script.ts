/**
 * The status page's script, served as /ui/app.js (a separate file because the page's
 * content-security-policy allows no inline script). Plain browser JavaScript kept as
 * a string: tsc copies only compiled TypeScript into dist/, and the page has no build
 * step. It never uses innerHTML: connector names, traces and topics come from users.
 *
 * Inside the string: no backticks and no dollar-brace sequences (it is a template literal).
 */
export const STATUS_PAGE_SCRIPT = String.raw`(function () {
  'use strict';

  const POLL_INTERVAL_MS = 2000;
  const REQUEST_TIMEOUT_MS = 5000;
  const KNOWN_STATES = ['RUNNING', 'FAILED', 'PAUSED', 'STOPPED', 'FINISHED', 'UNASSIGNED', 'RESTARTING'];
  const DONE_PARTITION_STATUSES = ['COMPLETED', 'DONE', 'DURABLE'];
  const numberFormat = new Intl.NumberFormat();

  /** Trace <details> the user opened, so a refresh does not close them. */
  const openTraces = new Set();
  let restoreBarIds = 0;

  const byId = (id) => document.getElementById(id);

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

  function formatBytes(n) {
    if (!isNumber(n)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return (unit === 0 ? String(value) : value.toFixed(1)) + ' ' + units[unit];
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

  /** BackupSink tasks: progress.partitions = [{topic, partition, committed_offset, end_offset, lag}]. */
  function lagTable(progress, taskId) {
    const partitions = isObject(progress) ? progress.partitions : undefined;
    if (!Array.isArray(partitions)) return null;
    const rows = partitions
      .filter(isObject)
      .slice()
      .sort((a, b) => String(a.topic).localeCompare(String(b.topic)) || Number(a.partition) - Number(b.partition))
      .map((p) => {
        const name = String(p.topic) + '/' + String(p.partition);
        const lag = toBigInt(p.lag);
        return el('tr', { testid: 'lag-' + name }, [
          el('th', { scope: 'row', text: name }),
          el('td', { className: 'number', text: formatCount(p.committed_offset) }),
          el('td', { className: 'number', text: formatCount(p.end_offset) }),
          el('td', { className: 'number' + (lag !== undefined && lag > 0n ? ' lagging' : ''), text: formatCount(p.lag), testid: 'lag-value' }),
        ]);
      });
    if (rows.length === 0) rows.push(el('tr', {}, [el('td', { colspan: 4, className: 'note', text: 'No partitions assigned.' })]));
    return el('table', { className: 'lag', testid: 'lag-table' }, [
      el('caption', { text: 'Backup lag of task ' + taskId }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { scope: 'col', text: 'Topic/partition' }),
          el('th', { scope: 'col', className: 'number', text: 'Committed' }),
          el('th', { scope: 'col', className: 'number', text: 'End' }),
          el('th', { scope: 'col', className: 'number', text: 'Lag' }),
        ]),
      ]),
      el('tbody', {}, rows),
    ]);
  }

  /**
   * RestoreSource tasks (RestoreTaskProgress, connectors/restore-source/progress.ts): {phase, records, objects,
   * bytes, bad_objects, planned?: {objects, bytes}, partitions: {"t/p": {target, records, last_offset, done}}}.
   * Fields are checked before use: other tasks and older workers report other shapes.
   */
  function restoreProgress(progress, state, taskId) {
    if (!isObject(progress) || (!isNumber(progress.records) && typeof progress.phase !== 'string')) return null;
    const planned = isObject(progress.planned) && isNumber(progress.planned.bytes) && progress.planned.bytes > 0 ? progress.planned : undefined;
    const finished = state === 'FINISHED';
    let fraction;
    if (finished) fraction = 1;
    else if (planned && isNumber(progress.bytes)) fraction = Math.min(1, progress.bytes / planned.bytes);

    const parts = [];
    if (typeof progress.phase === 'string') parts.push('phase ' + progress.phase);
    parts.push(formatCount(progress.records) + ' records');
    parts.push(formatCount(progress.objects) + (planned && isNumber(planned.objects) ? ' of ' + formatCount(planned.objects) : '') + ' objects');
    parts.push(formatBytes(progress.bytes) + (planned ? ' of ' + formatBytes(planned.bytes) : '') + ' read');
    if (fraction !== undefined) parts.unshift(Math.round(fraction * 100) + ' %');
    const summary = parts.join(' · ');

    const labelId = 'restore-label-' + ++restoreBarIds;
    const bar = el('progress', {
      max: 1,
      testid: 'restore-progress',
      'aria-labelledby': labelId,
      'aria-valuetext': summary,
    });
    // Without a plan there is no total to measure against: an indeterminate bar, with the counts beside it.
    if (fraction !== undefined) bar.value = fraction;

    const badObjects = isNumber(progress.bad_objects) ? progress.bad_objects : 0;
    const children = [
      el('span', { id: labelId, className: 'restore-counts', testid: 'restore-counts', text: 'Restore progress of task ' + taskId + ': ' + summary }),
      bar,
    ];
    if (badObjects > 0) {
      children.push(el('span', { testid: 'bad-objects' }, [el('span', { className: 'bad-objects', text: formatCount(badObjects) + ' bad object' + (badObjects === 1 ? '' : 's') + ' skipped' })]));
    }
    const partitions = restorePartitionsTable(progress.partitions, taskId);
    if (partitions) children.push(partitions);
    return el('div', { className: 'restore', testid: 'restore' }, children);
  }

  function restorePartitionsTable(partitions, taskId) {
    if (!isObject(partitions)) return null;
    const names = Object.keys(partitions).sort();
    if (names.length === 0) return null;
    return el('table', { className: 'restore-partitions', testid: 'restore-partitions' }, [
      el('caption', { text: 'Partitions restored by task ' + taskId }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { scope: 'col', text: 'Source partition' }),
          el('th', { scope: 'col', text: 'Target topic' }),
          el('th', { scope: 'col', className: 'number', text: 'Records' }),
          el('th', { scope: 'col', className: 'number', text: 'Last offset' }),
          el('th', { scope: 'col', text: 'Done' }),
        ]),
      ]),
      el(
        'tbody',
        {},
        names.map((name) => {
          const p = isObject(partitions[name]) ? partitions[name] : {};
          return el('tr', {}, [
            el('th', { scope: 'row', text: name }),
            el('td', { text: p.target === undefined ? '–' : String(p.target) }),
            el('td', { className: 'number', text: formatCount(p.records) }),
            el('td', { className: 'number', text: formatCount(p.last_offset) }),
            el('td', { text: p.done === true ? 'yes' : 'no' }),
          ]);
        }),
      ),
    ]);
  }

  function taskSection(connectorName, type, task) {
    const id = isNumber(task.id) ? task.id : String(task.id);
    const children = [
      el('div', { className: 'task-head' }, [
        el('h4', { text: 'Task ' + id }),
        stateBadge(task.state, 'task-state'),
        task.worker_id ? el('span', { className: 'note', text: 'on ' + task.worker_id }) : null,
      ]),
    ];
    if (typeof task.trace === 'string' && task.trace) {
      children.push(traceDetails(task.trace, JSON.stringify([connectorName, id]), 'Error trace of task ' + id));
    }
    if (type === 'sink') children.push(lagTable(task.progress, id));
    if (type === 'source') children.push(restoreProgress(task.progress, task.state, id));
    return el('section', { className: 'task', testid: 'task-' + id, 'data-state': task.state }, children);
  }

  function connectorArticle(name, entry, index) {
    const status = isObject(entry.status) ? entry.status : {};
    const info = isObject(entry.info) ? entry.info : {};
    const config = isObject(info.config) ? info.config : {};
    const connector = isObject(status.connector) ? status.connector : {};
    const type = status.type || info.type || 'unknown';
    const headingId = 'connector-heading-' + index;
    const facts = [
      ['Type', type, 'connector-type'],
      ['Class', config['connector.class'] || '–', 'connector-class'],
      ['Worker', connector.worker_id || '–', 'connector-worker'],
    ];
    const children = [
      el('div', { className: 'connector-head' }, [el('h3', { id: headingId, text: name }), stateBadge(connector.state, 'connector-state')]),
      el(
        'dl',
        { className: 'facts' },
        facts.map(([label, value, testid]) => el('div', {}, [el('dt', { text: label }), el('dd', { text: value, testid })])),
      ),
    ];
    if (typeof connector.trace === 'string' && connector.trace) {
      children.push(traceDetails(connector.trace, JSON.stringify([name, 'connector']), 'Error trace of the connector'));
    }
    const tasks = Array.isArray(status.tasks) ? status.tasks.filter(isObject) : [];
    if (tasks.length === 0) children.push(el('p', { className: 'note', text: 'No tasks running.' }));
    else children.push(el('div', { className: 'tasks' }, tasks.map((task) => taskSection(name, type, task))));
    return el('article', { className: 'connector', testid: 'connector-' + name, 'aria-labelledby': headingId, 'data-state': connector.state }, children);
  }

  function renderConnectors(connectors) {
    const map = isObject(connectors) ? connectors : {};
    const names = Object.keys(map).sort();
    restoreBarIds = 0;
    byId('connectors-loading').hidden = true;
    byId('connectors-empty').hidden = names.length > 0;
    byId('connectors').replaceChildren(...names.map((name, i) => connectorArticle(name, isObject(map[name]) ? map[name] : {}, i)));
  }

  function partitionDone(p) {
    if (DONE_PARTITION_STATUSES.includes(p.status)) return true;
    const durable = toBigInt(p.durableOffset);
    const end = toBigInt(p.endOffset);
    return durable !== undefined && end !== undefined && durable >= end;
  }

  function renderBackups(backups) {
    const table = byId('backups-table');
    if (!Array.isArray(backups)) {
      table.hidden = true;
      byId('backups-empty').hidden = true;
      byId('backups-unavailable').hidden = false;
      return;
    }
    byId('backups-unavailable').hidden = true;
    byId('backups-empty').hidden = backups.length > 0;
    table.hidden = backups.length === 0;
    byId('backups-body').replaceChildren(
      ...backups.filter(isObject).map((b) => {
        const partitions = Array.isArray(b.partitions) ? b.partitions.filter(isObject) : [];
        const status = typeof b.status === 'string' ? b.status : 'UNKNOWN';
        return el('tr', { testid: 'backup-' + b.backupId, 'data-status': status }, [
          el('th', { scope: 'row', text: String(b.backupId) }),
          el('td', {}, [el('span', { className: 'status-' + status.toLowerCase(), text: status, testid: 'backup-status' })]),
          el('td', {}, [timeElement(b.createdAt, 'backup-created')]),
          el('td', { className: 'number', testid: 'backup-partitions', text: partitions.filter(partitionDone).length + '/' + partitions.length }),
          el('td', { text: b.failureReason ? String(b.failureReason) : '', testid: 'backup-failure' }),
        ]);
      }),
    );
  }

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** Paths are relative to the page, so a reverse proxy may mount the worker under a prefix. */
  async function getJson(path) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store', signal: controller.signal });
      if (!response.ok) {
        let message = response.statusText;
        try {
          const body = await response.json();
          if (body && typeof body.message === 'string') message = body.message;
        } catch (_) {
          // Not a coldstore error body: the status text is all there is.
        }
        throw new HttpError(response.status, message);
      }
      return await response.json();
    } finally {
      clearTimeout(timer);
    }
  }

  function describeFailure(err) {
    if (err instanceof HttpError) {
      if (err.status === 401) return 'the worker asks for credentials (401); reload the page to sign in.';
      return 'HTTP ' + err.status + ': ' + err.message;
    }
    if (err && err.name === 'AbortError') return 'no answer within ' + REQUEST_TIMEOUT_MS / 1000 + ' s.';
    return 'the worker cannot be reached (' + (err && err.message ? err.message : String(err)) + ').';
  }

  let lastSuccess;

  function showBanner(problem) {
    const banner = byId('error-banner');
    const shown = lastSuccess ? ' Showing the data from ' + lastSuccess.toLocaleTimeString() + '.' : '';
    banner.textContent = problem + shown;
    banner.hidden = false;
  }

  async function refresh() {
    const [root, connectors, backups] = await Promise.allSettled([
      getJson('./'),
      getJson('connectors?expand=status&expand=info'),
      getJson('backups'),
    ]);
    if (root.status === 'fulfilled' && isObject(root.value)) {
      const commit = root.value.commit ? ' (' + root.value.commit + ')' : '';
      byId('worker-version').textContent = 'coldstore ' + root.value.version + commit;
    }
    if (connectors.status === 'rejected') {
      // Keep the last data on screen: it is still the best picture the operator has.
      showBanner('REST API unavailable: ' + describeFailure(connectors.reason));
      document.body.setAttribute('data-last-poll', 'error');
      return;
    }
    renderConnectors(connectors.value);
    // The catalogue is optional (older workers, or none configured): its absence is not an outage.
    renderBackups(backups.status === 'fulfilled' ? backups.value : undefined);
    byId('error-banner').hidden = true;
    lastSuccess = new Date();
    const updated = byId('last-updated');
    updated.textContent = lastSuccess.toLocaleTimeString();
    updated.setAttribute('datetime', lastSuccess.toISOString());
    document.body.setAttribute('data-last-poll', 'ok');
  }

  async function poll() {
    try {
      await refresh();
    } catch (err) {
      showBanner('The page could not show the data: ' + (err && err.message ? err.message : String(err)) + '.');
      document.body.setAttribute('data-last-poll', 'error');
      console.error(err);
    } finally {
      // Chained rather than setInterval: a slow worker never gets overlapping requests.
      setTimeout(poll, POLL_INTERVAL_MS);
    }
  }

  poll();
})();
`;
