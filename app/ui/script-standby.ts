/**
 * The status page's Standby panel: a RestoreSource task with restore.mode=follow
 * (progress.phase 'following', FollowTaskProgress in connectors/restore-source/follow/follow-task.ts)
 * never finishes, so instead of a progress bar it shows its recovery point per partition
 * and its last consumer-group sync (docs/standby.md). Inlined into STATUS_PAGE_SCRIPT
 * (script.ts) after the helpers; no backticks and no dollar-brace sequences inside.
 */
export const STATUS_PAGE_STANDBY = String.raw`  function isFollowing(progress) {
    return isObject(progress) && progress.phase === 'following';
  }

  function standbyPanel(progress, taskId) {
    const badObjects = isNumber(progress.bad_objects) ? progress.bad_objects : 0;
    const parts = [formatCount(progress.records) + ' records', formatCount(progress.objects) + ' objects', formatBytes(progress.bytes) + ' read'];
    const follow = isObject(progress.follow) ? progress.follow : {};
    const children = [
      el('h5', { text: 'Standby' }),
      el('p', { className: 'restore-counts', testid: 'standby-counts', text: 'Task ' + taskId + ' follows the backup: ' + parts.join(' · ') }),
    ];
    if (badObjects > 0) {
      children.push(el('span', { testid: 'bad-objects' }, [el('span', { className: 'bad-objects', text: formatCount(badObjects) + ' bad object' + (badObjects === 1 ? '' : 's') + ' skipped' })]));
    }
    children.push(standbyTable(progress.partitions, taskId));
    children.push(groupSyncLine(follow.groups));
    if (follow.discovered_at) {
      children.push(el('p', { className: 'note', testid: 'standby-discovered' }, ['Backup last listed for new topics and partitions: ', timeElement(follow.discovered_at)]));
    }
    return el('section', { className: 'standby', testid: 'standby', 'aria-label': 'Standby of task ' + taskId }, children);
  }

  function standbyTable(partitions, taskId) {
    const map = isObject(partitions) ? partitions : {};
    const names = Object.keys(map).sort();
    const rows = names.map((name) => {
      const p = isObject(map[name]) ? map[name] : {};
      const lag = isNumber(p.lag_offsets) ? p.lag_offsets : undefined;
      return el('tr', { testid: 'standby-' + name }, [
        el('th', { scope: 'row', text: name }),
        el('td', { text: p.target === undefined ? '–' : String(p.target), testid: 'standby-target' }),
        el('td', { className: 'number' + (lag !== undefined && lag > 0 ? ' lagging' : ''), text: formatCount(p.lag_offsets), testid: 'standby-lag' }),
        el('td', { className: 'number', text: isNumber(p.newest_age_ms) ? formatDuration(p.newest_age_ms) : 'none yet', testid: 'standby-age' }),
        el('td', { testid: 'standby-gap' }, gapCell(p.waiting_for_gap)),
      ]);
    });
    if (rows.length === 0) rows.push(el('tr', {}, [el('td', { colspan: 5, className: 'note', text: 'No backed-up partitions found for this task yet.' })]));
    return el('table', { className: 'standby-partitions', testid: 'standby-partitions' }, [
      el('caption', { text: 'Recovery point of task ' + taskId + ' per source partition' }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { scope: 'col', text: 'Source partition' }),
          el('th', { scope: 'col', text: 'Target topic' }),
          el('th', { scope: 'col', className: 'number', text: 'Lag (offsets)' }),
          el('th', { scope: 'col', className: 'number', text: 'Newest record age' }),
          el('th', { scope: 'col', text: 'Waiting for gap' }),
        ]),
      ]),
      el('tbody', {}, rows),
    ]);
  }

  /** A bundle held until the one ahead of it lands (the backup uploads in parallel): which offsets, since when. */
  function gapCell(gap) {
    if (!isObject(gap)) return ['–'];
    return ['offsets ' + formatCount(gap.from) + '–' + formatCount(gap.to) + ' since ', timeElement(gap.since)];
  }

  /** Partitions a sync committed (it only moves offsets forward: 0 means nothing to move), or why it left the group alone. */
  function groupOutcome(outcome) {
    if (!isNumber(outcome)) return String(outcome);
    if (outcome === 0) return 'up to date';
    return formatCount(outcome) + ' partition' + (outcome === 1 ? '' : 's') + ' moved forward';
  }

  /** follow.groups: {snapshot_taken_at?, synced_at?, groups: {name: partitions committed | reason}}; absent without groups set. */
  function groupSyncLine(sync) {
    if (!isObject(sync)) return null;
    if (!sync.synced_at) return el('p', { className: 'note', testid: 'standby-groups', text: 'Consumer groups: no snapshot synced yet.' });
    const groups = isObject(sync.groups) ? sync.groups : {};
    const each = Object.keys(groups)
      .sort()
      .map((g) => g + ': ' + groupOutcome(groups[g]));
    const children = ['Last group sync: ', timeElement(sync.synced_at, 'standby-synced-at')];
    if (sync.snapshot_taken_at) children.push(' (snapshot taken on the primary ', timeElement(sync.snapshot_taken_at), ')');
    children.push(each.length > 0 ? '. ' + each.join('; ') : '. No chosen group has offsets on these partitions.');
    return el('p', { className: 'note', testid: 'standby-groups' }, children);
  }`;
