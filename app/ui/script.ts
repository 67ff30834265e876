/**
 * The status page's script, served as /ui/app.js (a separate file because the page's
 * content-security-policy allows no inline script). Plain browser JavaScript kept as
 * a string: tsc copies only compiled TypeScript into dist/, and the page has no build
 * step. It never uses innerHTML: connector names, traces and topics come from users.
 *
 * Inside the string: no backticks and no dollar-brace sequences (it is a template literal),
 * but for those that inline the helpers (script-helpers.ts), the progress views
 * (script-progress.ts, script-standby.ts), the charts (script-charts.ts) and the actions (script-actions.ts).
 */
import { STATUS_PAGE_ACTIONS } from './script-actions.js';
import { STATUS_PAGE_CHARTS } from './script-charts.js';
import { STATUS_PAGE_HELPERS } from './script-helpers.js';
import { STATUS_PAGE_PROGRESS } from './script-progress.js';
import { STATUS_PAGE_STANDBY } from './script-standby.js';

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

${STATUS_PAGE_STANDBY}

${STATUS_PAGE_CHARTS}

${STATUS_PAGE_ACTIONS}

  function taskSection(connectorName, type, kind, task) {
    const id = isNumber(task.id) ? task.id : String(task.id);
    const children = [
      el('div', { className: 'task-head' }, [
        el('h4', { text: 'Task ' + id }),
        stateBadge(task.state, 'task-state'),
        task.worker_id ? el('span', { className: 'note', text: 'on ' + task.worker_id }) : null,
        task.state === 'FAILED' ? restartTaskButton(connectorName, id) : null,
      ]),
    ];
    if (typeof task.trace === 'string' && task.trace) {
      children.push(traceDetails(task.trace, JSON.stringify([connectorName, id]), 'Error trace of task ' + id));
    }
    // Lag means records not yet backed up: a BackupSink's (other sinks and restores have none to show).
    if (kind === 'backup') children.push(lagTable(task.progress, id), azulStreams(task.progress, id));
    // A follow-mode restore never finishes: its recovery point instead of a progress bar.
    if (type === 'source') children.push(isFollowing(task.progress) ? standbyPanel(task.progress, id) : restoreProgress(task.progress, task.state, id));
    return el('section', { className: 'task', testid: 'task-' + id, 'data-state': task.state }, children);
  }

  /**
   * A finished restore's connector stays RUNNING in the REST status (only its tasks are
   * FINISHED): shown as FINISHED, which is what it is for an operator.
   */
  function displayState(type, connector, tasks) {
    const finished = type === 'source' && connector.state === 'RUNNING' && tasks.length > 0 && tasks.every((t) => t.state === 'FINISHED');
    return finished ? 'FINISHED' : connector.state;
  }

  function connectorArticle(name, entry, index, history) {
    const status = isObject(entry.status) ? entry.status : {};
    const info = isObject(entry.info) ? entry.info : {};
    const config = isObject(info.config) ? info.config : {};
    const connector = isObject(status.connector) ? status.connector : {};
    const type = status.type || info.type || 'unknown';
    const headingId = 'connector-heading-' + index;
    const tasks = Array.isArray(status.tasks) ? status.tasks.filter(isObject) : [];
    const sampled = isObject(history) && isObject(history.connectors) ? history.connectors[name] : undefined;
    const kind = isObject(sampled) ? sampled.kind : undefined;
    const state = displayState(type, connector, tasks);
    const badge = stateBadge(state, 'connector-state');
    if (state !== connector.state) {
      badge.setAttribute('title', 'REST status ' + connector.state + ': every task finished');
      badge.setAttribute('data-rest-state', String(connector.state));
    }
    const facts = [
      ['Type', type, 'connector-type'],
      ['Class', config['connector.class'] || '–', 'connector-class'],
      ['Worker', connector.worker_id || '–', 'connector-worker'],
    ];
    const children = [
      el('div', { className: 'connector-head' }, [el('h3', { id: headingId, text: name }), badge, connectorActions(name, state)]),
      el(
        'dl',
        { className: 'facts' },
        facts.map(([label, value, testid]) => el('div', {}, [el('dt', { text: label }), el('dd', { text: value, testid })])),
      ),
    ];
    if (typeof connector.trace === 'string' && connector.trace) {
      children.push(traceDetails(connector.trace, JSON.stringify([name, 'connector']), 'Error trace of the connector'));
    }
    if (sampled) children.push(overview(sampled, history));
    if (tasks.length === 0) children.push(el('p', { className: 'note', text: 'No tasks running.' }));
    else children.push(el('div', { className: 'tasks' }, tasks.map((task) => taskSection(name, type, kind, task))));
    return el('article', { className: 'connector', testid: 'connector-' + name, 'aria-labelledby': headingId, 'data-state': state }, children);
  }

  function renderConnectors(connectors, history) {
    const map = isObject(connectors) ? connectors : {};
    const names = Object.keys(map).sort();
    restoreBarIds = 0;
    byId('connectors-loading').hidden = true;
    byId('connectors-empty').hidden = names.length > 0;
    byId('connectors').replaceChildren(...names.map((name, i) => connectorArticle(name, isObject(map[name]) ? map[name] : {}, i, history)));
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
      byId('backup-form').hidden = true;
      byId('backups-unavailable').hidden = false;
      return;
    }
    byId('backups-unavailable').hidden = true;
    byId('backup-form').hidden = false;
    suggestBackupId(backups.filter(isObject));
    byId('backups-empty').hidden = backups.length > 0;
    table.hidden = backups.length === 0;
    byId('backups-body').replaceChildren(
      ...backups.filter(isObject).map((b) => {
        const partitions = Array.isArray(b.partitions) ? b.partitions.filter(isObject) : [];
        const status = typeof b.status === 'string' ? b.status : 'UNKNOWN';
        return el('tr', { testid: 'backup-' + b.backupId, 'data-status': status }, [
          el('th', { scope: 'row', 'data-label': 'Backup', text: String(b.backupId) }),
          el('td', { 'data-label': 'Status' }, [el('span', { className: 'status-' + status.toLowerCase(), text: status, testid: 'backup-status' })]),
          el('td', { 'data-label': 'Created' }, [timeElement(b.createdAt, 'backup-created')]),
          el('td', { className: 'number', 'data-label': 'Partitions done', testid: 'backup-partitions', text: partitions.filter(partitionDone).length + '/' + partitions.length }),
          el('td', { text: b.failureReason ? String(b.failureReason) : '', 'data-label': b.failureReason ? 'Failure reason' : undefined, testid: 'backup-failure' }),
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

  /**
   * Paths are relative to the page, so a reverse proxy may mount the worker under a prefix.
   * Same origin: the browser sends the credentials the page was loaded with.
   */
  async function requestJson(path, method) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(path, { method: method || 'GET', headers: { accept: 'application/json' }, cache: 'no-store', signal: controller.signal });
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
      // 204 and 202 answers may have no body.
      const text = await response.text();
      return text ? JSON.parse(text) : null;
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
    const [root, connectors, backups, history] = await Promise.allSettled([
      requestJson('./'),
      requestJson('connectors?expand=status&expand=info'),
      requestJson('backups'),
      requestJson('ui/history'),
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
    // Without the sampler's history (an older worker) the page shows the connectors without charts.
    renderConnectors(connectors.value, history.status === 'fulfilled' ? history.value : undefined);
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

  setupActions();
  poll();
})();
`;
