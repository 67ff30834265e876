import { chromium, type Browser, type Page } from 'playwright-core';
import type { ConnectorPlugin } from '../../runtime/api/index.js';
import type { AppOptions } from '../../app/app.js';
import { createTestApp, type TestApp } from './test-app.js';

/** The Debian `chromium` package: the tests drive it headless through playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/**
 * A worker listening on a real port, as `coldstore worker` does, so Chromium can load
 * /ui; `url` is the page's address. `call` still goes through inject().
 */
export async function listeningTestApp(
  extra: Record<string, unknown>,
  options: { plugins?: ConnectorPlugin[]; app?: AppOptions; captureLogs?: boolean } = {},
): Promise<TestApp & { url: string }> {
  const t = await createTestApp({ 'rest.host': '127.0.0.1', 'rest.port': 0, ...extra }, { ...options, start: false });
  await t.app.server.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.server.address();
  if (!address || typeof address !== 'object') throw new Error('the worker is not listening on a TCP port');
  t.app.worker.workerId = `127.0.0.1:${address.port}`;
  await t.app.start();
  return { ...t, url: `http://127.0.0.1:${address.port}/ui` };
}

/** Problems a person would see in the page's layout; run in the page, so plain JavaScript. */
const LAYOUT_CHECK = String.raw`(() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const name = (node) => node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') + (node.getAttribute('data-testid') ? '[' + node.getAttribute('data-testid') + ']' : '');
  if (document.documentElement.scrollWidth > width) problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px wide in ' + width);
  for (const node of document.querySelectorAll('body *')) {
    const box = node.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) problems.push(name(node) + ' spans ' + Math.round(box.left) + '..' + Math.round(box.right) + ' px of ' + width);
  }
  const buttons = [...document.querySelectorAll('button')].filter((b) => b.getClientRects().length > 0);
  for (let i = 0; i < buttons.length; i++) {
    for (let j = i + 1; j < buttons.length; j++) {
      const a = buttons[i].getBoundingClientRect();
      const b = buttons[j].getBoundingClientRect();
      const overlapX = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const overlapY = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (overlapX > 0.5 && overlapY > 0.5) problems.push(name(buttons[i]) + ' overlaps ' + name(buttons[j]));
    }
  }
  return problems;
})()`;

/** Elements sticking out of the viewport horizontally (or a page that scrolls sideways), and buttons on top of each other. */
export function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(LAYOUT_CHECK) as Promise<string[]>;
}
