-- miltertest script against the real reglo-milter and PostgreSQL (driven by miltertest.sh).
-- Environment: MILTER_SOCK, MAIL_DIR (nolink.eml, plain.eml, forged.eml, fraud.eml, dsn.eml).
-- Debian's miltertest overflows its reply buffer (stack smashing) on any body replacement
-- over about 1 KB, so body rewrites are tested through Postfix (milter_e2e.sh); here we test
-- the trust decisions and the header edits.
local sock = os.getenv("MILTER_SOCK")
local dir = os.getenv("MAIL_DIR")
local failures = 0

local function check(what, cond)
    if cond then print("ok   - " .. what) else print("FAIL - " .. what); failures = failures + 1 end
end

-- Headers one by one (unfolded), then the body with CRLF line ends.
local function send_message(conn, path)
    local f = assert(io.open(path, "rb")); local data = f:read("*a"); f:close()
    data = data:gsub("\r\n", "\n")
    local head, body = data:match("^(.-)\n\n(.*)$")
    head = head:gsub("\n[ \t]+", " ")
    for line in (head .. "\n"):gmatch("(.-)\n") do
        local name, value = line:match("^([^:]+):%s*(.*)$")
        if name then assert(mt.header(conn, name, value) == nil, "header") end
    end
    assert(mt.eoh(conn) == nil, "eoh")
    assert(mt.bodystring(conn, (body:gsub("\n", "\r\n"))) == nil, "body")
    assert(mt.eom(conn) == nil, "eom")
end

local function session(host, ip, auth, from)
    local conn = mt.connect(sock, 40, 0.25)
    assert(conn, "cannot connect to " .. sock)
    assert(mt.conninfo(conn, host, ip) == nil, "conninfo")
    if auth then mt.macro(conn, SMFIC_MAIL, "i", "MT" .. ip, "{auth_authen}", auth)
    else mt.macro(conn, SMFIC_MAIL, "i", "MT" .. ip) end
    assert(mt.mailfrom(conn, from) == nil, "mailfrom")
    return conn
end

-- Headers only (no body): what thread tracking reads of mail that is not an artisan's.
local function send_headers(conn, headers)
    for _, h in ipairs(headers) do
        assert(mt.header(conn, h[1], h[2]) == nil, "header")
    end
    assert(mt.eoh(conn) == nil, "eoh")
end

local plain_headers = {
    {"From", "Someone <someone@elsewhere.test>"}, {"To", "client@example.test"},
    {"Subject", "Bonjour"}, {"Message-ID", "<mt-plain@elsewhere.test>"},
}

local ok, err = pcall(function()
    -- Untrusted client, no SASL: not artisan mail. No recipient in an artisan's domain: it
    -- can be no reply in an invoice's thread, accepted at DATA before its content.
    local c = session("mx.example", "192.0.2.1", nil, "<jean@artisan.test>")
    check("untrusted client: CONTINUE at MAIL FROM (thread tracking)", mt.getreply(c) == SMFIR_CONTINUE)
    assert(mt.rcptto(c, "<client@example.test>") == nil)
    assert(mt.data(c) == nil, "data")
    check("untrusted client, recipient elsewhere: ACCEPT at DATA", mt.getreply(c) == SMFIR_ACCEPT)
    mt.disconnect(c)

    -- Trusted client, sender not enrolled, recipients elsewhere: ACCEPT at DATA.
    c = session("localhost", "127.0.0.1", nil, "<someone@elsewhere.test>")
    check("non-enrolled sender: CONTINUE at MAIL FROM", mt.getreply(c) == SMFIR_CONTINUE)
    assert(mt.rcptto(c, "<client@example.test>") == nil)
    assert(mt.rcptto(c, "<Other@Example.TEST>") == nil)
    assert(mt.data(c) == nil, "data")
    check("non-enrolled sender, recipients elsewhere: ACCEPT at DATA", mt.getreply(c) == SMFIR_ACCEPT)
    mt.disconnect(c)

    -- One recipient (of several, any case) in the artisan's domain, even another address
    -- there: read up to the end of its headers; without thread headers, accepted there.
    c = session("localhost", "127.0.0.1", nil, "<someone@elsewhere.test>")
    assert(mt.rcptto(c, "<client@example.test>") == nil)
    assert(mt.rcptto(c, "<Contact@ARTISAN.test>") == nil)
    assert(mt.data(c) == nil, "data")
    check("recipient in an artisan's domain: CONTINUE at DATA", mt.getreply(c) == SMFIR_CONTINUE)
    send_headers(c, plain_headers)
    check("recipient in an artisan's domain, no thread headers: ACCEPT at end of headers", mt.getreply(c) == SMFIR_ACCEPT)
    mt.disconnect(c)

    -- A malformed recipient is nobody's: accepted at DATA.
    c = session("localhost", "127.0.0.1", nil, "<someone@elsewhere.test>")
    assert(mt.rcptto(c, "<no-at-sign>") == nil)
    assert(mt.data(c) == nil, "data")
    check("malformed recipient: ACCEPT at DATA", mt.getreply(c) == SMFIR_ACCEPT)
    mt.disconnect(c)

    -- The artisan's own mail goes on at DATA whatever its recipients.
    c = session("localhost", "127.0.0.1", nil, "<jean@artisan.test>")
    assert(mt.rcptto(c, "<client@example.test>") == nil)
    assert(mt.data(c) == nil, "data")
    check("artisan: CONTINUE at DATA", mt.getreply(c) == SMFIR_CONTINUE)
    mt.disconnect(c)

    -- A reply whose In-Reply-To/References are not tracked: one lookup, ACCEPT, unchanged.
    c = session("mx.example", "192.0.2.2", nil, "<client@example.test>")
    assert(mt.rcptto(c, "<jean@artisan.test>") == nil)
    send_headers(c, {
        {"From", "Client <client@example.test>"}, {"To", "jean@artisan.test"},
        {"Subject", "Re: Facture"}, {"Message-ID", "<mt-reply@example.test>"},
        {"In-Reply-To", "<unknown-invoice@artisan.test>"},
        {"References", "<older@artisan.test> <unknown-invoice@artisan.test>"},
    })
    check("reply in an untracked thread: ACCEPT at end of headers", mt.getreply(c) == SMFIR_ACCEPT)
    mt.disconnect(c)

    -- Null sender that is no bounce (a vacation notice): ACCEPT at end of headers.
    c = session("mx.example", "192.0.2.3", nil, "<>")
    assert(mt.rcptto(c, "<jean@artisan.test>") == nil)
    send_headers(c, {
        {"From", "Client <client@example.test>"}, {"Subject", "Absent"},
        {"Auto-Submitted", "auto-replied"}, {"In-Reply-To", "<unknown-invoice@artisan.test>"},
    })
    check("null sender, not a bounce: ACCEPT at end of headers", mt.getreply(c) == SMFIR_ACCEPT)
    mt.disconnect(c)

    -- Null sender with a report: the body is read (CONTINUE), the message never changed.
    c = session("mx.example", "192.0.2.4", nil, "<>")
    assert(mt.rcptto(c, "<jean@artisan.test>") == nil)
    send_message(c, dir .. "/dsn.eml")
    check("bounce of an untracked message: no change", not mt.eom_check(c, MT_BODYCHANGE) and
          not mt.eom_check(c, MT_HDRCHANGE) and not mt.eom_check(c, MT_HDRADD))
    check("bounce: message continues", mt.getreply(c) == SMFIR_CONTINUE)
    mt.disconnect(c)

    -- SASL-authenticated artisan from anywhere: processed; [sans lien] and X-Invoice-*
    -- headers are removed, the body is left alone.
    c = session("client.example", "198.51.100.7", "jean", "<jean@artisan.test>")
    check("authenticated artisan: CONTINUE at MAIL FROM", mt.getreply(c) == SMFIR_CONTINUE)
    assert(mt.rcptto(c, "<client@example.test>") == nil)
    send_message(c, dir .. "/nolink.eml")
    check("[sans lien]: subject tag removed", mt.eom_check(c, MT_HDRCHANGE, "Subject", "Facture MT-1"))
    check("X-Invoice-Number removed", mt.eom_check(c, MT_HDRDELETE, "X-Invoice-Number"))
    check("[sans lien]: body untouched", not mt.eom_check(c, MT_BODYCHANGE))
    check("[sans lien]: no marker", not mt.eom_check(c, MT_HDRADD, "X-Reglo"))
    check("message continues", mt.getreply(c) == SMFIR_CONTINUE)
    mt.disconnect(c)

    -- Local submission (no address): the artisan's ordinary mail is untouched.
    c = session("localhost", "unspec", nil, "<jean@artisan.test>")
    assert(mt.rcptto(c, "<client@example.test>") == nil)
    send_message(c, dir .. "/plain.eml")
    check("non-invoice: no body change", not mt.eom_check(c, MT_BODYCHANGE))
    check("non-invoice: no header change", not mt.eom_check(c, MT_HDRCHANGE) and not mt.eom_check(c, MT_HDRADD))
    mt.disconnect(c)

    -- A forged marker never reaches the client (that it does not stop the link is checked
    -- through Postfix).
    c = session("localhost", "127.0.0.1", nil, "<jean@artisan.test>")
    assert(mt.rcptto(c, "<client@example.test>") == nil)
    send_message(c, dir .. "/forged.eml")
    check("forged marker: removed", mt.eom_check(c, MT_HDRDELETE, "X-Reglo"))
    mt.disconnect(c)

    -- Swapped IBAN with quarantine_iban_mismatch on: held, no link.
    c = session("localhost", "127.0.0.1", nil, "<jean@artisan.test>")
    assert(mt.rcptto(c, "<client@example.test>") == nil)
    send_message(c, dir .. "/fraud.eml")
    check("IBAN mismatch: quarantined", mt.eom_check(c, MT_QUARANTINE))
    check("IBAN mismatch: no link", not mt.eom_check(c, MT_BODYCHANGE))
    mt.disconnect(c)
end)
if not ok then print("FAIL - miltertest script error: " .. tostring(err)); failures = failures + 1 end
if failures > 0 then os.exit(1) end
