// phone.mjs — what the browser tests share: headless Debian Chromium (playwright-core) on a
// French phone-sized page that may reach nothing but loopback, the TAP-like "ok - " lines,
// and the run-one-scenario wrapper that turns an exception into "not ok - <step>: ...".
//
// Flags are those of shared/notes/test-environment.md: nothing may leave the machine, even
// a DNS lookup of Google's hosts at start. The tests also run in an empty network namespace.
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const STEP_MS = 15000;          // any single wait
export const PHONE = { width: 390, height: 844 };

const FLAGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--log-level=3',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

export const ok = (what) => console.log(`ok - ${what}`);
export const norm = (s) => s.replace(/[\s\u00a0\u202f]+/g, ' ').trim();

// Launch and open one page. problems collects failed requests, HTTP errors, page errors
// and anything aimed outside loopback (an external font, a tracker...): a bug in our pages.
export async function openPhone(extra = {}) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: STEP_MS });
    const context = await browser.newContext({
        viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
        locale: 'fr-FR', timezoneId: 'Europe/Paris', ...extra,
    });
    context.setDefaultTimeout(STEP_MS);
    const page = await context.newPage();
    const problems = [];
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
            problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await context.route('**/*', (route) => {
        const host = new URL(route.request().url()).hostname;
        if (host === '127.0.0.1' || host === 'localhost') return route.continue();
        problems.push(`blocked non-loopback request: ${route.request().url()}`);
        return route.abort();
    });
    ok(`Chromium ${browser.version()} started, phone viewport ${PHONE.width}x${PHONE.height}, fr-FR`);
    return { browser, context, page, problems };
}

// The page is no wider than the viewport (nothing to scroll sideways on a phone).
export async function noOverflow(page) {
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    }));
    if (scrollWidth > innerWidth)
        throw new Error(`horizontal overflow: ${scrollWidth}px wide in a ${innerWidth}px viewport`);
    return scrollWidth;
}

// Run a scenario: scenario(state) sets state.step as it goes; any exception becomes one
// "not ok" line naming that step; the browser is closed whatever happens.
export async function runScenario(scenario) {
    const state = { step: 'start', browser: null };
    try {
        await scenario(state);
    } catch (e) {
        console.log(`not ok - ${state.step}: ${e.message.split('\n')[0]}`);
        process.exitCode = 1;
    } finally {
        if (state.browser) await state.browser.close().catch(() => {});
    }
}
