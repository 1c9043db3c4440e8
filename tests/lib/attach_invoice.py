#!/usr/bin/env python3
"""attach_invoice — make any message look like an artisan's invoice email (stdlib only).

  attach_invoice.py IN.eml FROM PDF OUT.eml

Sets From: to FROM and attaches PDF, working on the bytes so that every original part stays
byte-identical:
  - a top-level multipart/mixed with a closing delimiter gets the PDF as a new last part,
    inserted just before "--BOUNDARY--";
  - anything else is wrapped: the original top part (its Content-* headers and its body,
    verbatim) becomes the first part of a new multipart/mixed whose second part is the PDF.
The line ending of the original header block (CRLF or LF) is used for what is added.
Prints "appended" or "wrapped".
"""
import base64, email.parser, email.policy, os, re, sys


# A header line as Python's parser sees one: a field, a continuation, or an mbox From_ line.
FIELD = re.compile(rb'(From |[\x21-\x39\x3b-\x7e]*:|[\t ])')


def split_message(data):
    """(header bytes, body bytes). The header block ends at the blank line, or before the
    first line that is not a header field: parsers disagree on such lines (Python starts the
    body there, GMime skips them), so we make the message say what Python reads."""
    head_end = 0
    pos = 0
    while pos < len(data):
        nl = data.find(b'\n', pos)
        line = data[pos:] if nl < 0 else data[pos:nl + 1]
        if line in (b'\n', b'\r\n'):                 # the blank line
            return data[:head_end], data[pos + len(line):]
        if not FIELD.match(line):                    # body without a blank line before it
            return data[:head_end], data[pos:]
        head_end = pos + len(line)
        pos = head_end
    return data, b''


def header_fields(head):
    """Fields as lists of raw lines (with their line ends), folded lines kept with their field."""
    fields = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    return fields


def field_name(field):
    name, colon, _ = field[0].partition(b':')
    return name.strip().lower() if colon else b''


def pdf_part(pdf, name, eol):
    b64 = base64.b64encode(pdf)
    lines = [b64[i:i + 76] for i in range(0, len(b64), 76)]
    head = [b'Content-Type: application/pdf; name="%s"' % name,
            b'Content-Disposition: attachment; filename="%s"' % name,
            b'Content-Transfer-Encoding: base64']
    return eol.join(head) + eol + eol + eol.join(lines)


def fresh_boundary(data):
    while True:
        b = b'reglo-test-' + os.urandom(12).hex().encode()
        if b not in data:
            return b


def main(argv):
    src, sender, pdf_path, out_path = argv[1:5]
    with open(src, 'rb') as f:
        data = f.read()
    with open(pdf_path, 'rb') as f:
        pdf = f.read()
    head, body = split_message(data)
    eol = b'\r\n' if b'\r\n' in (head or data[:200]) else b'\n'
    fields = header_fields(head)
    # Header lines must end with a line end before we add ours.
    if fields and not fields[-1][-1].endswith(b'\n'):
        fields[-1][-1] += eol
    parsed = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head + eol + eol)
    ctype = parsed.get_content_type()
    boundary = parsed.get_param('boundary')
    boundary = boundary.encode('utf-8', 'surrogateescape') if isinstance(boundary, str) else None

    others = [f for f in fields if field_name(f) != b'from']
    from_field = [[b'From: ' + sender.encode() + eol]]
    name = os.path.basename(pdf_path).encode()

    closing = None
    if ctype == 'multipart/mixed' and boundary:
        hits = list(re.finditer(rb'(?:^|\r?\n)--' + re.escape(boundary) + rb'--', body))
        if hits:
            closing = hits[-1]
    if closing is not None:
        at = closing.start()
        if body[at:at + 2] == b'--':        # the closing delimiter opens the body
            part = b'--' + boundary + eol + pdf_part(pdf, name, eol) + eol
        else:                               # the line end before it belongs to it
            part = eol + b'--' + boundary + eol + pdf_part(pdf, name, eol)
        out = b''.join(l for f in from_field + others for l in f) + eol
        out += body[:at] + part + body[at:]
        how = 'appended'
    else:
        nb = fresh_boundary(data + pdf)
        content = [f for f in others if field_name(f).startswith(b'content-')]
        top = [f for f in others if not field_name(f).startswith(b'content-')
               and field_name(f) != b'mime-version']
        out = b''.join(l for f in from_field + top for l in f)
        out += b'MIME-Version: 1.0' + eol
        out += b'Content-Type: multipart/mixed; boundary="' + nb + b'"' + eol + eol
        out += b'--' + nb + eol
        out += b''.join(l for f in content for l in f) + eol
        out += body + eol
        out += b'--' + nb + eol + pdf_part(pdf, name, eol) + eol
        out += b'--' + nb + b'--' + eol
        how = 'wrapped'
    with open(out_path, 'wb') as f:
        f.write(out)
    print(how)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
