/**
 * The status page's actions: pause, resume, restart a failed task, take a backup by id.
 * Each calls the REST API the page reads (same origin, so the browser sends the basic
 * auth credentials it loaded the page with), asks first when the action interrupts work,
 * and says what happened in #action-result. Inlined into STATUS_PAGE_SCRIPT (script.ts);
 * no backticks and no dollar-brace sequences inside.
 */
export const STATUS_PAGE_ACTIONS = String.raw`  /** Actions in flight, by key: their buttons stay disabled across refreshes until the answer comes. */
  const busyActions = new Set();

  function showResult(outcome, text) {
    const result = byId('action-result');
    result.textContent = text;
    result.setAttribute('data-outcome', outcome);
    result.hidden = false;
  }

  /** The page's own confirmation (a modal <dialog>): resolves true only for the confirm button. */
  function confirmAction(message, confirmLabel) {
    const dialog = byId('confirm-dialog');
    byId('confirm-message').textContent = message;
    byId('confirm-ok').textContent = confirmLabel;
    return new Promise((resolve) => {
      dialog.returnValue = '';
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
      dialog.showModal();
    });
  }

  /**
   * Runs one action: confirmation when asked for, the request, a message either way, then
   * a refresh so the page shows the new state without waiting for the next poll.
   */
  async function runAction(action) {
    if (busyActions.has(action.key)) return;
    if (action.confirm && !(await confirmAction(action.confirm, action.confirmLabel))) {
      showResult('cancelled', action.label + ': cancelled, nothing was sent.');
      return;
    }
    busyActions.add(action.key);
    showResult('pending', action.label + '…');
    try {
      const answer = await requestJson(action.path, action.method);
      showResult('ok', action.done(answer));
    } catch (err) {
      showResult('error', action.label + ' failed: ' + describeFailure(err));
    } finally {
      busyActions.delete(action.key);
      refresh().catch((err) => console.error(err));
    }
  }

  function actionButton(action, testid, className) {
    const button = el('button', { type: 'button', className: 'action' + (className ? ' ' + className : ''), testid, text: action.text });
    button.disabled = busyActions.has(action.key);
    button.addEventListener('click', () => {
      runAction(action);
    });
    return button;
  }

  const connectorPath = (name) => 'connectors/' + encodeURIComponent(name);

  /** Pause while it runs, resume while it is paused; a finished restore has nothing to pause. */
  function connectorActions(name, state) {
    const buttons = [];
    if (state === 'RUNNING') {
      buttons.push(
        actionButton(
          {
            key: 'pause ' + name,
            text: 'Pause',
            label: 'Pause ' + name,
            method: 'PUT',
            path: connectorPath(name) + '/pause',
            confirm: 'Pause ' + name + '? Its tasks stop consuming and writing until it is resumed; records wait in Kafka meanwhile.',
            confirmLabel: 'Pause',
            done: () => 'Pause of ' + name + ' requested.',
          },
          'action-pause',
          'danger',
        ),
      );
    }
    if (state === 'PAUSED') {
      buttons.push(
        actionButton(
          {
            key: 'resume ' + name,
            text: 'Resume',
            label: 'Resume ' + name,
            method: 'PUT',
            path: connectorPath(name) + '/resume',
            done: () => 'Resume of ' + name + ' requested.',
          },
          'action-resume',
        ),
      );
    }
    return buttons.length > 0 ? el('div', { className: 'actions', testid: 'connector-actions' }, buttons) : null;
  }

  function restartTaskButton(name, id) {
    return actionButton(
      {
        key: 'restart ' + name + ' ' + id,
        text: 'Restart task',
        label: 'Restart task ' + id + ' of ' + name,
        method: 'POST',
        path: connectorPath(name) + '/tasks/' + encodeURIComponent(String(id)) + '/restart',
        confirm: 'Restart task ' + id + ' of ' + name + '? It starts again from its committed offsets.',
        confirmLabel: 'Restart',
        done: () => 'Restart of task ' + id + ' of ' + name + ' requested.',
      },
      'action-restart',
    );
  }

  /** The next id a backup may take: ids must grow (docs/backups.md). Filled in until the user types one. */
  function suggestBackupId(backups) {
    const input = byId('backup-id');
    if (input.getAttribute('data-edited') === 'true' || document.activeElement === input) return;
    const ids = backups.map((b) => Number(b.backupId)).filter((id) => Number.isSafeInteger(id));
    input.value = String(ids.length > 0 ? Math.max(...ids) + 1 : 1);
  }

  function setupActions() {
    const dialog = byId('confirm-dialog');
    byId('confirm-ok').addEventListener('click', () => dialog.close('confirm'));
    byId('confirm-cancel').addEventListener('click', () => dialog.close('cancel'));
    const input = byId('backup-id');
    input.addEventListener('input', () => input.setAttribute('data-edited', 'true'));
    byId('backup-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const raw = input.value.trim();
      if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) {
        showResult('error', 'Take backup failed: the id must be a positive whole number.');
        return;
      }
      runAction({
        key: 'backup',
        label: 'Take backup ' + raw,
        method: 'POST',
        path: 'backups/' + raw,
        done: () => {
          input.removeAttribute('data-edited');
          return 'Backup ' + raw + ' started: it is listed below until it completes.';
        },
      });
    });
  }`;
