// portal.mjs — an artisan in the portal, in a real browser: headless Debian Chromium driven
// by playwright-core, on a French phone. Asks for a sign-in link, takes it from the captured
// mail files, signs in, reads Mes factures (filter, CSV export), opens an invoice and its
// "paiement immédiat" QR, changes options, edits a reminder template with its preview, and
// signs out. Screenshots of the list and of the invoice page stay as artifacts.
//
// Must run in an empty network namespace (tests/integration/portal_browser.sh), next to
// reglo-gateway and tests/lib/smtp-capture.py.
//
//   node portal.mjs GATEWAY_URL ARTISAN_EMAIL SINK_DIR ARTIFACT_DIR
// Prints "ok - ..." per step; on any failure "not ok - ..." and exits 1.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noOverflow, norm, ok, openPhone, PHONE, runScenario, STEP_MS } from './phone.mjs';

const [gateway, email, sinkDir, artifacts] = process.argv.slice(2);
if (!gateway || !email || !sinkDir || !artifacts) {
    console.error('usage: node portal.mjs GATEWAY_URL ARTISAN_EMAIL SINK_DIR ARTIFACT_DIR');
    process.exit(2);
}
const MAILPARTS = join(dirname(fileURLToPath(import.meta.url)), '../lib/mailparts.py');

// Every file under dir, newest first.
function sinkFiles(dir) {
    const out = [];
    const walk = (d) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
            const p = join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.push({ p, t: statSync(p).mtimeMs });
        }
    };
    try { walk(dir); } catch { /* not there yet */ }
    return out.sort((a, b) => b.t - a.t).map((f) => f.p);
}

// The sign-in link of the newest message to `to`, once it has arrived.
async function signinLink(to, notBefore) {
    const deadline = Date.now() + STEP_MS;
    while (Date.now() < deadline) {
        for (const f of sinkFiles(sinkDir)) {
            if (statSync(f).mtimeMs < notBefore) break;
            const raw = readFileSync(f, 'utf8');
            if (!new RegExp(`^To: .*${to.replace(/[.]/g, '\\.')}`, 'm').test(raw)) continue;
            const text = execFileSync('python3', [MAILPARTS, 'text', f], { encoding: 'utf8' });
            const m = text.match(/https?:\/\/\S+\/portal\/entrer\?t=[A-Za-z0-9_-]+/);
            if (m) return m[0];
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no sign-in link for ${to} in the captured mail after ${STEP_MS / 1000} s`);
}

async function run(state) {
    mkdirSync(artifacts, { recursive: true });
    state.step = 'launch Chromium';
    const { browser, context, page, problems } = await openPhone({ acceptDownloads: true });
    state.browser = browser;

    state.step = 'ask for a sign-in link';
    await page.goto(`${gateway}/portal`, { waitUntil: 'load' });
    if (!page.url().endsWith('/portal/connexion')) throw new Error(`/portal led to ${page.url()}`);
    const asked = Date.now() - 1000;
    await page.getByLabel('Adresse e-mail').fill(email);
    await page.getByRole('button', { name: 'Recevoir mon lien' }).click();
    await page.getByRole('heading', { name: 'Vérifiez votre messagerie' }).waitFor();
    ok('sign-in page (French, label on the field), "Vérifiez votre messagerie"');

    state.step = 'take the link from the captured mail';
    const link = await signinLink(email, asked);
    ok(`sign-in link found in the captured mail (${new URL(link).pathname})`);

    state.step = 'sign in';
    await page.goto(link, { waitUntil: 'load' });
    await Promise.all([page.waitForURL(/\/portal\/factures$/),
                       page.getByRole('button', { name: 'Ouvrir mon espace' }).click()]);
    const cookie = (await context.cookies()).find((c) => c.name === 'reglo_portal');
    if (!cookie || !cookie.httpOnly || !cookie.secure || cookie.sameSite !== 'Strict')
        throw new Error(`session cookie: ${JSON.stringify(cookie)}`);
    ok('signed in: Mes factures; cookie HttpOnly, Secure, SameSite=Strict');

    state.step = 'read the list';
    await page.getByRole('heading', { name: 'Mes factures' }).waitFor();
    const rows = page.locator('table.list tbody tr');
    if ((await rows.count()) < 3) throw new Error(`only ${await rows.count()} invoices listed`);
    for (const label of ['Payée', 'En retard', 'Relancée ×1'])
        if (!(await page.locator('.status', { hasText: label }).count()))
            throw new Error(`no "${label}" status in the list`);
    const width = await noOverflow(page);
    await page.screenshot({ path: join(artifacts, 'portal-list-fr.png'), fullPage: true });
    ok(`list: ${await rows.count()} invoices, statuses Payée / En retard / Relancée ×1, no overflow (${width}px); portal-list-fr.png`);
    await page.setViewportSize({ width: 360, height: 740 });
    await noOverflow(page);
    await page.screenshot({ path: join(artifacts, 'portal-list-fr-360.png'), fullPage: true });
    await page.setViewportSize(PHONE);
    ok('no horizontal overflow at 360 px either (portal-list-fr-360.png)');

    state.step = 'filter Payée';
    await page.getByLabel('Statut').selectOption('paid');
    await Promise.all([page.waitForURL(/statut=paid/), page.getByRole('button', { name: 'Filtrer' }).click()]);
    const paid = await rows.count();
    const other = await page.locator('table.list tbody .status:not(.st-paid)').count();
    if (paid < 1 || other) throw new Error(`filter: ${paid} rows, ${other} not paid`);
    ok(`filter Payée: ${paid} row(s), all paid`);

    state.step = 'export CSV';
    const [download] = await Promise.all([page.waitForEvent('download'),
                                          page.getByRole('link', { name: 'Exporter en CSV' }).click()]);
    const csvPath = join(artifacts, 'portal-factures.csv');
    await download.saveAs(csvPath);
    const csv = readFileSync(csvPath);
    if (csv[0] !== 0xef || csv[1] !== 0xbb || csv[2] !== 0xbf) throw new Error('CSV without a UTF-8 BOM');
    const lines = csv.toString('utf8').slice(1).split('\r\n').filter((l) => l);
    if (!lines[0].startsWith('Numéro;Client;Montant') || lines.length !== paid + 1)
        throw new Error(`CSV: ${lines.length} lines, header "${lines[0]}"`);
    ok(`CSV exported as filtered: ${download.suggestedFilename()}, BOM, ';', ${lines.length - 1} row(s)`);

    state.step = 'open an invoice';
    await page.goto(`${gateway}/portal/factures`, { waitUntil: 'load' });
    await Promise.all([page.waitForURL(/\/portal\/factures\/\d+$/),
                       page.getByRole('link', { name: 'F-WEB-REAL' }).click()]);
    await page.getByRole('heading', { name: /Facture F-WEB-REAL/ }).waitFor();
    if (!(await page.locator('.timeline', { hasText: 'Envoyée' }).count()))
        throw new Error('the timeline does not show "Envoyée"');
    await noOverflow(page);
    await page.screenshot({ path: join(artifacts, 'portal-invoice-fr.png'), fullPage: true });
    ok('invoice page: timeline with "Envoyée", actions, no overflow; portal-invoice-fr.png');

    state.step = 'paiement immédiat';
    await Promise.all([page.waitForURL(/\/qr$/), page.getByRole('link', { name: 'Paiement immédiat' }).click()]);
    const qr = await page.evaluate(() => {
        const img = document.querySelector('img.qr-full');
        return img && img.complete ? img.getBoundingClientRect().width : 0;
    });
    if (qr < 300) throw new Error(`QR image ${qr}px wide`);
    await page.screenshot({ path: join(artifacts, 'portal-qr.png') });
    ok(`paiement immédiat: QR ${Math.round(qr)}px wide on a 390px screen; portal-qr.png`);

    state.step = 'change options';
    await page.goto(`${gateway}/portal/options`, { waitUntil: 'load' });
    await page.getByLabel('J+30').uncheck();
    await page.getByLabel('Autres jours (facultatif)').fill('45');
    await page.getByLabel(/Compter à partir de la date d'échéance/).check();
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Vos options sont enregistrées.').waitFor();
    if (await page.getByLabel('J+30').isChecked()) throw new Error('J+30 still checked');
    if ((await page.getByLabel('Autres jours (facultatif)').inputValue()) !== '45')
        throw new Error('custom day not kept');
    await page.setViewportSize({ width: 360, height: 740 });
    await noOverflow(page);
    await page.setViewportSize(PHONE);
    ok('options saved: J+30 off, J+45 on, counted from the due date; fits 360 px');

    state.step = 'edit a template';
    await page.goto(`${gateway}/portal/modeles`, { waitUntil: 'load' });
    const step7 = page.locator('section', { has: page.getByRole('heading', { name: 'Relance J+7' }) });
    await Promise.all([page.waitForURL(/reminder\.txt/),
                       step7.getByRole('link', { name: 'Message — texte' }).click()]);
    await page.getByLabel('Texte du modèle').fill('Bonjour,\nreste à régler : {{amount}} pour la facture {{number}}.\n{{artisan_name}}');
    await page.getByRole('button', { name: 'Aperçu' }).click();
    const preview = norm(await page.locator('.preview-text').innerText());
    if (!/reste à régler : \S+ \S+ € pour la facture F-2026-042\./.test(preview))
        throw new Error(`preview: "${preview}"`);
    await page.screenshot({ path: join(artifacts, 'portal-template-fr.png'), fullPage: true });
    ok(`preview rendered with the sample invoice: "${preview.slice(0, 60)}…"; portal-template-fr.png`);
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Modèle enregistré').waitFor();
    ok('template saved ("Modèle enregistré")');

    state.step = 'refuse a broken template';
    const before = problems.length;
    await page.getByLabel('Texte du modèle').fill('Bonjour {{{number}}}');
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    const alert = await page.getByRole('alert').innerText();
    if (!/ligne 1/.test(alert)) throw new Error(`refusal says "${alert}"`);
    // The refusal is a 400 (Chromium also logs it on the console): expected here, and the
    // only problem this step may add.
    const added = problems.splice(before);
    if (!added.length || added.some((p) => !/^(HTTP 400|console: .*status of 400)/.test(p)))
        throw new Error(added.join('; ') || 'the refusal was not a 400');
    ok(`a template with {{{ refused (400): "${alert.slice(0, 70)}…"`);

    state.step = 'preview an HTML template';
    await page.goto(`${gateway}/portal/modeles/reminder.html?langue=fr&etape=7`, { waitUntil: 'load' });
    const frame = page.frameLocator('iframe.preview-html');
    await frame.getByText('F-2026-042').first().waitFor();
    ok('HTML preview shown in its sandboxed frame');

    state.step = 'sign out';
    await page.getByRole('button', { name: 'Se déconnecter', exact: true }).click();
    await page.getByText('Vous êtes déconnecté.').waitFor();
    await page.goto(`${gateway}/portal/factures`, { waitUntil: 'load' });
    if (!page.url().endsWith('/portal/connexion')) throw new Error('still signed in after signing out');
    ok('signed out: Mes factures leads to the sign-in page again');

    state.step = 'check requests';
    if (problems.length) throw new Error(problems.join('; '));
    ok('no failed request, no HTTP error, no page or console error, nothing outside loopback');
}

await runScenario(run);
