#!/usr/bin/env bash
# psp-sim's own HTTP framing (it parses requests itself, on one asyncio loop): requests
# pipelined in one packet answered in order, a body split across packets, and hostile
# input refused with the right status and the connection closed — a garbled request line,
# an unknown HTTP version, an unsupported method, a head over 64 KiB, a chunked or negative
# body length — without the emulator stopping.
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-29800}
. "$(dirname "$0")/../lib/env.sh"

t_init
sim_start || { fail "psp-sim starts"; t_summary; exit 1; }

# raw BYTES...: each argument sent as one packet (a short pause between them), then what
# psp-sim answers until it closes or is quiet for a second: its status lines, and "closed"
# when it closed the connection.
raw() {
    python3 - "$SIM_PORT" "$@" <<'PY'
import re, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for part in sys.argv[2:]:
    s.sendall(part.encode("latin-1").decode("unicode_escape").encode("latin-1"))
    time.sleep(0.1)
s.settimeout(1.0)
got, closed = b"", False
try:
    while True:
        d = s.recv(65536)
        if not d:
            closed = True
            break
        got += d
except socket.timeout:
    pass
except ConnectionResetError:
    closed = True
# answers follow each other without a separator: every status line, wherever it starts
print(" ".join(re.findall(r"HTTP/1\.1 (\d{3}) ", got.decode("latin-1")))
      + (" closed" if closed else ""))
PY
}
AUTH='Authorization: Bearer test_psp_sim_mollie_key\r\n'

check "two requests in one packet: both answered, in order, connection kept" \
    test "$(raw 'GET /_sim/health HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/payments/tr_nope HTTP/1.1\r\nHost: x\r\n'"$AUTH"'\r\n')" = "200 404"
check "a body split across packets: answered once it is whole (invalid JSON: 422)" \
    test "$(raw 'POST /v2/payments HTTP/1.1\r\nHost: x\r\n'"$AUTH"'Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{"am' 'ount":' ')')" = "422"
check "HTTP/1.0: answered, then closed" \
    test "$(raw 'GET /_sim/health HTTP/1.0\r\n\r\n')" = "200 closed"
check "Connection: close honoured" \
    test "$(raw 'GET /_sim/health HTTP/1.1\r\nConnection: close\r\n\r\n')" = "200 closed"
check "garbled request line: 400, closed" test "$(raw 'GET / HTTP/1.1 extra\r\n\r\n')" = "400 closed"
check "HTTP/2.0 request line: 505, closed" test "$(raw 'GET / HTTP/2.0\r\n\r\n')" = "505 closed"
check "bad version string: 400, closed" test "$(raw 'GET / HTTQ/1.x\r\n\r\n')" = "400 closed"
check "header line without a colon: 400, closed" \
    test "$(raw 'GET / HTTP/1.1\r\nno colon here\r\n\r\n')" = "400 closed"
check "unsupported method: 501, closed" test "$(raw 'PUT /v2/payments HTTP/1.1\r\n\r\n')" = "501 closed"
check "chunked body: 413, closed" \
    test "$(raw 'POST /v2/payments HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')" = "413 closed"
check "negative Content-Length: 413, closed" \
    test "$(raw 'POST /v2/payments HTTP/1.1\r\nContent-Length: -1\r\n\r\n')" = "413 closed"
check "Content-Length over 1 MiB: 413, closed" \
    test "$(raw 'POST /v2/payments HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n')" = "413 closed"
check "a head over 64 KiB: 431, closed" \
    test "$(raw "GET / HTTP/1.1\r\nX-Pad: $(head -c 70000 /dev/zero | tr '\0' a)\r\n\r\n")" = "431 closed"
check "after all that, psp-sim still answers" curl -sf -o /dev/null "$SIM/_sim/health"
check "no traceback in psp-sim's log" bash -c "! grep -q Traceback '$T/psp-sim.log'"
t_summary
