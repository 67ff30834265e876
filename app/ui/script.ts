/**
 * The status page's script, served as /ui/app.js (a separate file because the page's
 * content-security-policy allows no inline script). Plain browser JavaScript kept as
 * a string: tsc copies only compiled TypeScript into dist/, and the page has no build
 * step. It never uses innerHTML: connector names, traces and topics come from users.
 *
 * Inside the string: no backticks and no dollar-brace sequences (it is a template literal),
 * but for those that inline the helpers (script-helpers.ts) and the progress views
 * (script-progress.ts).
 */
import { STATUS_PAGE_HELPERS } from './script-helpers.js';
import { STATUS_PAGE_PROGRESS } from './script-progress.js';

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

${STATUS_PAGE_HELPERS}

${STATUS_PAGE_PROGRESS}

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
