/**
 * The status page's rendering of a task's progress (a sink's lag per partition, a restore's
 * bar and partitions), inlined into STATUS_PAGE_SCRIPT (script.ts) after the helpers
 * (script-helpers.ts). No backticks and no dollar-brace sequences inside.
 */
export const STATUS_PAGE_PROGRESS = String.raw`  function lagTable(progress, taskId) {
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
   * An azul-layout BackupSink's streams (progress.azul_streams: {missing, spooled, missing_stored}):
   * streams the dispatcher answered 404 wait in the missing list until a retry finds them.
   */
  function azulStreams(progress, taskId) {
    const streams = isObject(progress) && isObject(progress.azul_streams) ? progress.azul_streams : undefined;
    if (!streams) return null;
    const missing = isNumber(streams.missing) ? streams.missing : 0;
    const parts = [formatCount(streams.missing) + ' missing (the dispatcher answered 404; asked again every streams.missing.retry.ms)'];
    parts.push(formatCount(streams.spooled) + ' spooled');
    parts.push(formatCount(streams.missing_stored) + ' stored after a retry');
    return el('p', {
      className: missing > 0 ? 'note bad-objects' : 'note',
      testid: 'azul-streams',
      text: 'Azul streams of task ' + taskId + ': ' + parts.join(', '),
    });
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
  }`;
