/**
 * The status page's per-connector overview: records/s, backup lag and the age of the
 * oldest record not yet durable over the sampler's window (GET /ui/history, sampler.ts),
 * drawn as inline SVG sparklines: nothing is loaded from elsewhere, so the page works
 * offline. Inlined into STATUS_PAGE_SCRIPT (script.ts); no backticks and no dollar-brace
 * sequences inside.
 */
export const STATUS_PAGE_CHARTS = String.raw`  const SVG_NS = 'http://www.w3.org/2000/svg';
  const CHART_WIDTH = 240;
  const CHART_HEIGHT = 48;
  const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

  function svg(tag, attributes) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    return node;
  }

  function formatDuration(ms) {
    if (!isNumber(ms)) return '–';
    if (ms < 10000) return rateFormat.format(ms / 1000) + ' s';
    if (ms < 120000) return Math.round(ms / 1000) + ' s';
    if (ms < 7200000) return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
    return rateFormat.format(ms / 3600000) + ' h';
  }

  /**
   * One series as a sparkline: x is time (the newest point at the right edge, the window
   * across), y the value from 0 to the window's maximum. A missing value breaks the line.
   */
  function sparkline(points, field, title, format, windowMs, testid) {
    const values = points.filter((p) => isNumber(p[field]));
    const newest = points.length > 0 ? points[points.length - 1].at : 0;
    const max = values.reduce((m, p) => Math.max(m, p[field]), 0);
    const scale = max > 0 ? max : 1;
    const chart = svg('svg', {
      viewBox: '0 0 ' + CHART_WIDTH + ' ' + CHART_HEIGHT,
      preserveAspectRatio: 'none',
      class: 'sparkline',
      role: 'img',
      'data-testid': 'chart',
      'data-points': values.length,
    });
    chart.append(svg('line', { x1: 0, y1: CHART_HEIGHT - 1, x2: CHART_WIDTH, y2: CHART_HEIGHT - 1, class: 'baseline' }));
    let segment = [];
    const flush = () => {
      if (segment.length === 1) chart.append(svg('circle', { cx: segment[0][0], cy: segment[0][1], r: 1.5, class: 'dot' }));
      else if (segment.length > 1) chart.append(svg('polyline', { points: segment.map((xy) => xy.join(',')).join(' '), class: 'series' }));
      segment = [];
    };
    for (const p of points) {
      if (!isNumber(p[field])) {
        flush();
        continue;
      }
      const x = Math.max(0, CHART_WIDTH - ((newest - p.at) / windowMs) * CHART_WIDTH);
      const y = CHART_HEIGHT - 2 - (p[field] / scale) * (CHART_HEIGHT - 4);
      segment.push([Math.round(x * 10) / 10, Math.round(y * 10) / 10]);
    }
    flush();
    const last = values.length > 0 ? values[values.length - 1][field] : undefined;
    const summary = values.length === 0 ? 'no samples yet' : 'now ' + format(last) + ', max ' + format(max);
    chart.setAttribute('aria-label', title + ': ' + summary);
    return el('figure', { className: 'chart', testid }, [
      el('figcaption', {}, [el('span', { className: 'chart-title', text: title }), ' ', el('span', { className: 'chart-value', text: summary })]),
      chart,
    ]);
  }

  /** The age of the oldest record not yet durable, as the sampler last observed it. */
  function undurableLine(undurable) {
    if (!isObject(undurable) || !isNumber(undurable.ageMs)) {
      return el('p', { className: 'freshness note', testid: 'undurable-age', text: 'Oldest record not yet durable: not observed yet.' });
    }
    if (undurable.ageMs === 0) {
      return el('p', { className: 'freshness', testid: 'undurable-age', 'data-age-ms': 0, text: 'Every record seen is durable.' });
    }
    const age = (undurable.atLeast ? 'at least ' : '') + formatDuration(undurable.ageMs);
    const where = undurable.partition ? ' (' + undurable.partition + ')' : '';
    return el('p', { className: 'freshness', testid: 'undurable-age', 'data-age-ms': undurable.ageMs }, [
      'Oldest record not yet durable: ',
      el('strong', { text: age }),
      ' waiting' + where + '.',
    ]);
  }

  /** The charts of one connector: BackupSinks also get lag and freshness, restores only their rate. */
  function overview(entry, history) {
    if (!isObject(entry) || !Array.isArray(entry.points)) return null;
    const windowMs = history.sampleIntervalMs * history.points;
    const within = ' (last ' + formatDuration(windowMs) + ')';
    const rate = (v) => rateFormat.format(v) + '/s';
    const charts = [sparkline(entry.points, 'recordsPerSecond', 'Records/s' + within, rate, windowMs, 'chart-rate')];
    const children = [];
    if (entry.kind === 'backup') {
      children.push(undurableLine(entry.undurable));
      charts.push(sparkline(entry.points, 'lag', 'Backup lag' + within, formatCount, windowMs, 'chart-lag'));
      charts.push(sparkline(entry.points, 'undurableAgeMs', 'Oldest not durable' + within, formatDuration, windowMs, 'chart-undurable'));
    }
    children.push(el('div', { className: 'charts' }, charts));
    return el('div', { className: 'overview', testid: 'overview' }, children);
  }`;
