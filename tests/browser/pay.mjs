// pay.mjs — a client paying an invoice in a real browser: headless Debian Chromium, driven by
// playwright-core, on a phone-sized French page. Opens the payment link, checks the amount and
// the pay button, keeps screenshots and the EPC QR image as artifacts, pays at psp-sim's
// hosted checkout, follows the redirect back and reloads until the receipt shows.
//
// Must run in an empty network namespace (tests/integration/browser.sh does `unshare -rn`)
// next to reglo-gateway and psp-sim: Chromium may then reach nothing but that loopback.
//
//   node pay.mjs LINK ARTIFACT_DIR EXPECTED_AMOUNT
// Prints "ok - ..." per step; on any failure "not ok - ..." and exits 1.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noOverflow, norm, ok, openPhone, runScenario } from './phone.mjs';

const [link, artifacts, expectedAmount] = process.argv.slice(2);
if (!link || !artifacts || !expectedAmount) {
    console.error('usage: node pay.mjs LINK ARTIFACT_DIR EXPECTED_AMOUNT');
    process.exit(2);
}
const RECEIPT_MS = 20000;       // the PSP callback is asynchronous: reload until then

async function run(state) {
    mkdirSync(artifacts, { recursive: true });
    const gateway = new URL(link).origin;

    state.step = 'launch Chromium';
    const { browser, context, page, problems } = await openPhone();
    state.browser = browser;

    state.step = 'open the payment page';
    const resp = await page.goto(link, { waitUntil: 'load' });
    if (!resp || resp.status() !== 200) throw new Error(`payment page answered ${resp?.status()}`);
    if ((await page.getAttribute('html', 'lang')) !== 'fr')
        throw new Error('page is not in French (Accept-Language: fr-FR)');
    ok('payment page opened (200, lang=fr)');

    state.step = 'check the amount';
    const amount = norm(await page.locator('.amount').first().innerText());
    if (amount !== norm(expectedAmount))
        throw new Error(`amount shown "${amount}", expected "${norm(expectedAmount)}"`);
    if (!(await page.locator('.amount').first().isVisible())) throw new Error('amount not visible');
    ok(`amount visible: ${amount}`);

    state.step = 'check the pay button';
    const pay = page.getByRole('button', { name: 'Payer depuis ma banque' });
    await pay.waitFor({ state: 'visible' });
    ok('"Payer depuis ma banque" visible');

    state.step = 'check the layout';
    const layout = await page.evaluate(() => {
        const img = document.querySelector('img.qr');
        return {
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            css: [...document.styleSheets].some((s) => s.cssRules.length > 0),
            qrLoaded: !!img && img.complete && img.naturalWidth > 0,
        };
    });
    if (!layout.css) throw new Error('stylesheet not applied');
    if (layout.scrollWidth > layout.innerWidth)
        throw new Error(`horizontal overflow: ${layout.scrollWidth}px wide in a ${layout.innerWidth}px viewport`);
    if (!layout.qrLoaded) throw new Error('EPC QR image missing or not loaded');
    ok(`stylesheet applied, no horizontal overflow (${layout.scrollWidth}px), QR image loaded`);

    const button = await pay.boundingBox();
    if (!button || button.y + button.height > 844) throw new Error('pay button below the fold');
    ok(`pay button above the fold (bottom at ${Math.round(button.y + button.height)}px of 844)`);

    state.step = 'screenshot the payment page';
    await page.screenshot({ path: join(artifacts, 'payment-page-fr.png'), fullPage: true });
    ok('screenshot payment-page-fr.png');

    state.step = 'check a 360 px wide phone';
    await page.setViewportSize({ width: 360, height: 740 });
    await noOverflow(page);
    await page.screenshot({ path: join(artifacts, 'payment-page-fr-360.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    ok('no horizontal overflow at 360 px either (payment-page-fr-360.png)');

    state.step = 'keep the EPC QR image';
    const src = await page.locator('img.qr').getAttribute('src');
    const png = await context.request.get(new URL(src, gateway).href);
    if (png.status() !== 200 || !png.headers()['content-type']?.startsWith('image/png'))
        throw new Error(`${src} answered ${png.status()} ${png.headers()['content-type']}`);
    writeFileSync(join(artifacts, 'epc.png'), await png.body());
    // What the page prints for a manual transfer, to compare with the QR's payload.
    const shown = await page.locator('dl.details').last().evaluate((dl) => {
        const out = {};
        for (const dt of dl.querySelectorAll('dt'))
            out[dt.textContent.trim()] = dt.nextElementSibling?.textContent.trim() ?? '';
        return out;
    });
    writeFileSync(join(artifacts, 'epc-page.json'), JSON.stringify(shown, null, 1) + '\n');
    ok(`EPC QR kept: epc.png (from ${src.replace(/\/p\/[^/]+\//, '/p/…/')}), transfer details epc-page.json`);

    state.step = 'click pay';
    await Promise.all([page.waitForURL((u) => u.origin !== gateway), pay.click()]);
    ok(`redirected to the PSP checkout: ${new URL(page.url()).pathname}`);

    state.step = 'pay at psp-sim';
    await page.screenshot({ path: join(artifacts, 'psp-checkout.png') });
    await Promise.all([page.waitForURL((u) => u.origin === gateway), page.locator('button#pay').click()]);
    ok('paid at psp-sim, back at the gateway');
    const back = new URL(page.url());
    if (!back.pathname.startsWith(new URL(link).pathname) || back.searchParams.get('back') !== '1')
        throw new Error(`came back to ${back.pathname}${back.search}, not the invoice page with back=1`);
    ok('returned to the invoice page (back=1)');

    state.step = 'wait for the receipt';
    const deadline = Date.now() + RECEIPT_MS;
    let reloads = 0;
    while (!(await page.getByText('Payée le').isVisible())) {
        if (Date.now() > deadline) throw new Error(`no receipt ("Payée le") after ${RECEIPT_MS / 1000} s`);
        await page.waitForTimeout(500);
        await page.reload({ waitUntil: 'load' });
        reloads++;
    }
    ok(`receipt shown ("Payée le") after ${reloads} reload(s)`);
    if (await page.getByRole('button', { name: 'Payer depuis ma banque' }).count())
        throw new Error('receipt still offers the pay button');
    if (await page.locator('img.qr').count()) throw new Error('receipt still shows the EPC QR');
    ok('receipt: no pay button, no transfer QR');
    await page.screenshot({ path: join(artifacts, 'receipt-fr.png'), fullPage: true });
    ok('screenshot receipt-fr.png');

    state.step = 'check requests';
    if (problems.length) throw new Error(problems.join('; '));
    ok('no failed request, no HTTP error, no page error, nothing outside loopback');
}

await runScenario(run);
