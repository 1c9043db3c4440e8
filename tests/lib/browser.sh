# tests/lib/browser.sh — what the browser tests share; source it after env.sh.
# Chromium runs headless in an empty network namespace (unshare -rn) and prints "ok - " and
# "not ok - " lines; these functions check the tools, count those lines as checks, and check
# the screenshots it keeps in $ART.

BROWSER_DIR=$REGLO_ROOT/tests/browser
ART=${REGLO_ARTIFACTS:-$REGLO_ROOT/tests/artifacts}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# Chromium, node and playwright-core (npm ci when missing); else a visible SKIP, exit 0.
browser_ready() {
    if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null; then
        echo "SKIP: $1 needs $CHROMIUM (Debian package chromium) and node"
        exit 0
    fi
    if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
        npm ci --prefix "$BROWSER_DIR" --no-audit --no-fund >/dev/null 2>&1 ||
            { echo "FAIL - npm ci in tests/browser"; exit 1; }
    fi
}

# browser_report FILE RC: the run's lines as checks; FALSE when the run failed (then the
# end of the gateway's log is shown).
browser_report() {
    local file=$1 rc=$2 not_oks=0 line
    while IFS= read -r line; do
        case $line in
            "ok - "*) ok "browser: ${line#ok - }" ;;
            "not ok - "*) fail "browser: ${line#not ok - }"; not_oks=$((not_oks + 1)) ;;
            *) printf '  | %s\n' "$line" ;;
        esac
    done <"$file"
    [ "$rc" -eq 0 ] && return 0
    [ "$not_oks" -gt 0 ] || fail "browser run exited $rc"
    tail -n 15 "$T/gateway.log" "$T/psp-sim.log" 2>/dev/null | sed 's/^/  | /'
    return 1
}

# A full-page screenshot of a phone: a PNG 390 CSS px wide at device scale 2.
phone_png() {
    python3 -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
sys.exit(not (head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", head[16:20])[0] == 780))
' "$1"
}
