/**
 * The status page's stylesheet, served as /ui/style.css. It lives in a .ts module
 * because tsc copies only compiled TypeScript into dist/.
 */
export const STATUS_PAGE_STYLE = String.raw`
:root {
  color-scheme: light;
  --text: #1d2329;
  --muted: #5b6670;
  --line: #d9dee3;
  --panel: #ffffff;
  --page: #f4f6f8;
  --green: #1a7f37;
  --green-bg: #dcf5e3;
  --red: #b42318;
  --red-bg: #fde4e1;
  --grey: #57606a;
  --grey-bg: #e8ebee;
  --blue: #0b5cad;
  --blue-bg: #dcebfb;
  --amber: #8a5a00;
  --amber-bg: #fff0c7;
  font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  font-size: 15px;
  line-height: 1.4;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--text); }
.top {
  display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.5rem 1.5rem;
  padding: 0.75rem 1.5rem; background: #17202a; color: #fff;
}
.top h1 { margin: 0; font-size: 1.3rem; letter-spacing: 0.02em; }
.top p { margin: 0; color: #c9d1d9; }
main { padding: 1rem 1.5rem 2rem; max-width: 80rem; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 0; overflow-wrap: anywhere; }
h4 { font-size: 0.9rem; margin: 0; font-weight: 600; }
.banner {
  margin: 0; padding: 0.6rem 1.5rem; background: var(--red-bg); color: var(--red);
  border-bottom: 2px solid var(--red); font-weight: 600;
}
.banner[hidden], [hidden] { display: none; }
.connectors { display: grid; gap: 0.75rem; }
.connector {
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem;
}
.connector-head { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 0.75rem; }
.facts { display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; margin: 0.35rem 0 0.5rem; color: var(--muted); font-size: 0.9rem; }
.facts div { display: flex; gap: 0.35rem; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.tasks { display: grid; gap: 0.5rem; }
.task { border-top: 1px solid var(--line); padding-top: 0.5rem; }
.task-head { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; }
.task-head .note, .connector-head .note { margin: 0; font-size: 0.88rem; }
.state {
  display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.8rem;
  font-weight: 700; letter-spacing: 0.03em; border: 1px solid currentColor;
}
.state-running { color: var(--green); background: var(--green-bg); }
.state-failed { color: var(--red); background: var(--red-bg); }
.state-paused, .state-stopped { color: var(--grey); background: var(--grey-bg); }
.state-finished { color: var(--blue); background: var(--blue-bg); }
.state-unassigned, .state-restarting, .state-unknown { color: var(--amber); background: var(--amber-bg); }
.trace summary { cursor: pointer; color: var(--red); font-weight: 600; }
.trace pre {
  margin: 0.35rem 0 0; padding: 0.5rem; max-height: 20rem; overflow: auto; white-space: pre-wrap;
  background: #fbf3f2; border: 1px solid var(--red-bg); font-size: 0.8rem;
}
table { border-collapse: collapse; margin: 0.35rem 0; font-size: 0.88rem; background: var(--panel); max-width: 100%; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.2rem; color: var(--muted); }
th, td { padding: 0.2rem 0.75rem 0.2rem 0; text-align: left; border-bottom: 1px solid var(--line); }
/* Topic names and reasons may be long: they wrap anywhere; column headings wrap only between words. */
th[scope="row"], td { overflow-wrap: anywhere; }
th { font-weight: 600; color: var(--muted); }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
td.lagging { color: var(--amber); font-weight: 700; }
.restore { display: grid; gap: 0.25rem; margin: 0.35rem 0; justify-items: start; }
.restore progress { width: 100%; max-width: 40rem; height: 1rem; accent-color: var(--blue); }
.restore-counts { font-size: 0.88rem; color: var(--muted); }
.standby { margin: 0.35rem 0; }
.standby h5 { font-size: 0.88rem; margin: 0 0 0.15rem; font-weight: 600; }
.standby .restore-counts { margin: 0; }
.bad-objects { color: var(--red); background: var(--red-bg); font-weight: 700; padding: 0 0.35rem; border-radius: 3px; }
.backups-table { width: 100%; max-width: 60rem; }
.status-completed { color: var(--green); font-weight: 700; }
.status-in_progress { color: var(--amber); font-weight: 700; }
.status-failed { color: var(--red); font-weight: 700; }
.note { color: var(--muted); margin: 0.25rem 0; }
#worker-version { overflow-wrap: anywhere; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}
.actions { display: flex; flex-wrap: wrap; gap: 0.4rem; }
.connector-head .actions { margin-left: auto; }
button.action {
  font: inherit; font-size: 0.85rem; padding: 0.2rem 0.75rem; border-radius: 4px; cursor: pointer;
  border: 1px solid var(--blue); background: var(--blue-bg); color: var(--blue); font-weight: 600;
}
button.action.danger { border-color: var(--red); background: var(--red-bg); color: var(--red); }
button.action:disabled { cursor: progress; opacity: 0.6; }
button.action:focus-visible, input:focus-visible { outline: 2px solid var(--blue); outline-offset: 2px; }
.action-result { margin: 0; padding: 0.5rem 1.5rem; font-weight: 600; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
.action-result[data-outcome="ok"] { background: var(--green-bg); color: var(--green); }
.action-result[data-outcome="error"] { background: var(--red-bg); color: var(--red); }
.action-result[data-outcome="pending"], .action-result[data-outcome="cancelled"] { background: var(--grey-bg); color: var(--grey); }
.confirm { max-width: min(30rem, calc(100vw - 2rem)); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; }
.confirm::backdrop { background: rgba(23, 32, 42, 0.45); }
.confirm h2 { margin-top: 0; }
.confirm .actions { justify-content: flex-end; }
.backup-form { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.6rem; margin: 0.25rem 0 0.5rem; }
.backup-form input { font: inherit; width: 7rem; padding: 0.15rem 0.35rem; }
.backup-form .note { flex-basis: 100%; font-size: 0.85rem; }
.overview { margin: 0.25rem 0 0.5rem; }
.freshness { margin: 0.2rem 0; font-size: 0.9rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: 0.5rem 1rem; }
.chart { margin: 0; min-width: 0; }
.chart figcaption { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 0.5rem; font-size: 0.8rem; color: var(--muted); }
.chart-title { font-weight: 600; }
.sparkline { display: block; width: 100%; height: 3rem; background: #f8fafc; border: 1px solid var(--line); border-radius: 3px; }
.sparkline .series { fill: none; stroke: var(--blue); stroke-width: 1.5; vector-effect: non-scaling-stroke; stroke-linejoin: round; }
.sparkline .dot { fill: var(--blue); }
.sparkline .baseline { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
@media (max-width: 40rem) {
  main, .top, .banner, .action-result { padding-left: 0.75rem; padding-right: 0.75rem; }
  .connector { padding: 0.6rem 0.7rem; }
  /* Narrow screens: each backup is a block of labelled lines instead of a wide row. */
  .backups-table thead { display: none; }
  .backups-table, .backups-table tbody, .backups-table tr, .backups-table th, .backups-table td { display: block; width: 100%; }
  .backups-table tr { border-bottom: 1px solid var(--line); padding: 0.25rem 0; }
  .backups-table caption { display: block; }
  .backups-table th, .backups-table td { border: 0; text-align: left; }
  .backups-table [data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
}
`;
