/**
 * The status page's HTML, served as /ui. Only the skeleton: ui/app.js fills it from
 * the REST API and the sampler's history. Asset URLs are relative so the page also
 * works behind a reverse proxy that mounts the worker under a path prefix.
 */
export const STATUS_PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coldstore status</title>
<link rel="stylesheet" href="ui/style.css">
<script src="ui/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1>coldstore</h1>
  <p><span id="worker-version" data-testid="worker-version">version unknown</span></p>
  <p>Last updated: <time id="last-updated" data-testid="last-updated">never</time></p>
</header>
<p id="error-banner" class="banner" data-testid="error-banner" role="alert" hidden></p>
<p id="action-result" class="action-result" data-testid="action-result" role="status" hidden></p>
<main>
  <section aria-labelledby="connectors-heading">
    <h2 id="connectors-heading">Connectors</h2>
    <p id="connectors-loading" class="note" data-testid="connectors-loading">Loading…</p>
    <p id="connectors-empty" class="note" data-testid="connectors-empty" hidden>No connectors on this worker.</p>
    <div id="connectors" class="connectors" data-testid="connectors"></div>
  </section>
  <section aria-labelledby="backups-heading">
    <h2 id="backups-heading">Backups</h2>
    <p id="backups-unavailable" class="note" data-testid="backups-unavailable" hidden>Backup catalogue unavailable.</p>
    <form id="backup-form" class="backup-form" data-testid="backup-form" hidden>
      <label for="backup-id">Backup id</label>
      <input id="backup-id" name="backup-id" type="number" min="1" step="1" inputmode="numeric" required data-testid="backup-id">
      <button type="submit" class="action" data-testid="take-backup">Take backup</button>
      <span class="note">Each id must be greater than every earlier one; the next free id is filled in.</span>
    </form>
    <p id="backups-empty" class="note" data-testid="backups-empty" hidden>No backups taken yet.</p>
    <table id="backups-table" class="backups-table" data-testid="backups-table" hidden>
      <caption>Backups by id, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Id</th>
          <th scope="col">Status</th>
          <th scope="col">Created</th>
          <th scope="col" class="number">Partitions done</th>
          <th scope="col">Failure reason</th>
        </tr>
      </thead>
      <tbody id="backups-body"></tbody>
    </table>
  </section>
</main>
<dialog id="confirm-dialog" class="confirm" data-testid="confirm-dialog" aria-labelledby="confirm-title" aria-describedby="confirm-message">
  <h2 id="confirm-title">Please confirm</h2>
  <p id="confirm-message" data-testid="confirm-message"></p>
  <div class="actions">
    <button type="button" id="confirm-cancel" class="action" data-testid="confirm-cancel">Cancel</button>
    <button type="button" id="confirm-ok" class="action danger" data-testid="confirm-ok">Confirm</button>
  </div>
</dialog>
<noscript><p class="banner">This page needs JavaScript. The same data is at /connectors?expand=status&amp;expand=info.</p></noscript>
</body>
</html>
`;
