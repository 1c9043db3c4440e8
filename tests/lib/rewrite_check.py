#!/usr/bin/env python3
"""rewrite_check — did a rewrite keep every original part? (Python standard library only)

  rewrite_check.py IN.eml OUT.eml LINK_PREFIX

OUT must parse, and every leaf of IN must come out with the same decoded bytes, except the
body text parts (text/plain, text/html, not attachments) that received the payment block:
those must contain a link starting with LINK_PREFIX. The QR image reglo adds
(Content-ID ...@reglo.invalid) is the only other new leaf allowed.
Content that is not base64 is compared with CRLF read as LF: it travels as lines, which SMTP
carries as CRLF whatever the file had, and GMime writes LF.
Prints one word and details: "linked ...", or "FAIL ..." (exit 1).
"""
import collections, email, email.policy, hashlib, sys


def load(path):
    with open(path, 'rb') as f:
        return email.message_from_bytes(f.read(), policy=email.policy.compat32)


def text_of(part, data):
    if part.get_content_maintype() != 'text':
        return ''
    try:
        return data.decode(part.get_content_charset() or 'utf-8', 'replace')
    except LookupError:  # unknown charset: the link is ASCII anyway
        return data.decode('utf-8', 'replace')


def leaf_list(msg):
    out = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = str(part.get_payload()).encode('utf-8', 'surrogateescape')
        if str(part.get('Content-Transfer-Encoding') or '').strip().lower() != 'base64':
            data = data.replace(b'\r\n', b'\n')
        disp = str(part.get('Content-Disposition') or '').split(';')[0].strip().lower()
        out.append({
            'sha': hashlib.sha256(data).hexdigest(),
            'type': part.get_content_type(),
            'attachment': disp == 'attachment',
            'cid': str(part.get('Content-ID') or ''),
            'text': text_of(part, data),
        })
    return out


def is_body_text(leaf):
    return leaf['type'] in ('text/plain', 'text/html') and not leaf['attachment']


def main(argv):
    in_path, out_path, prefix = argv[1:4]
    try:
        leaves_in = leaf_list(load(in_path))
        leaves_out = leaf_list(load(out_path))
    except Exception as e:  # a parser crash is a failure of the output, not of the test
        print('FAIL output does not parse: %r' % e)
        return 1
    edited = [l for l in leaves_out if prefix in l['text']]
    qr = [l for l in leaves_out if l['type'] == 'image/png' and '@reglo.invalid' in l['cid']]
    taken = {id(l) for l in edited + qr}
    kept = [l for l in leaves_out if id(l) not in taken]
    if not edited:
        print('FAIL no part carries the link')
        return 1
    bad = [l for l in edited if not is_body_text(l)]
    if bad:
        print('FAIL the link went into a %s%s' % (bad[0]['type'],
              ' attachment' if bad[0]['attachment'] else ''))
        return 1
    want = collections.Counter(l['sha'] for l in leaves_in)
    have = collections.Counter(l['sha'] for l in kept)
    missing = want - have
    extra = have - want
    # The parts that were edited are missing in their original form: body text only.
    replaced = [l for l in leaves_in if l['sha'] in missing and is_body_text(l)]
    lost = [l for l in leaves_in if l['sha'] in missing and not is_body_text(l)]
    if lost:
        print('FAIL %d original part(s) changed or lost, e.g. %s' % (len(lost), lost[0]['type']))
        return 1
    if len(replaced) > len(edited):
        print('FAIL %d text parts changed, only %d carry the link' % (len(replaced), len(edited)))
        return 1
    if extra:
        print('FAIL %d unexpected new part(s)' % sum(extra.values()))
        return 1
    print('linked (%d part(s) kept, %d edited, %d QR)' % (len(kept), len(edited), len(qr)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
