#!/usr/bin/env python3
"""mailparts — read delivered messages in the shell tests (Python standard library only).

  mailparts.py text FILE                 decoded first text/plain body
  mailparts.py html FILE                 decoded first text/html body
  mailparts.py header FILE NAME          every value of a header, one per line
  mailparts.py save FILE CTYPE|NAME OUT  decoded content of the first part with that
                                         content type or filename
  mailparts.py leaves FILE               sha256 of each leaf's decoded content + type
  mailparts.py unchanged ORIG DELIVERED  exit 0 when DELIVERED carries ORIG's headers in order
                                         (the MTA may add its own) and the same body bytes
  mailparts.py seven-bit FILE            exit 0 when every byte is ASCII and lines <= 998
"""
import email, email.policy, hashlib, sys

def load(path):
    with open(path, 'rb') as f:
        data = f.read()
    # smtp-sink dumps start with its own X-* envelope lines before the message.
    if data.startswith(b'X-Client-Addr:') or data.startswith(b'X-Helo-Args:'):
        idx = data.find(b'\nX-Rcpt-Args:')
        if idx >= 0:
            data = data[data.index(b'\n', idx + 1) + 1:]
    return data

def parse(path):
    return email.message_from_bytes(load(path), policy=email.policy.compat32)

def body_of(msg, subtype):
    for part in msg.walk():
        if part.get_content_type() == 'text/' + subtype and not part.get_filename():
            payload = part.get_payload(decode=True) or b''
            return payload.decode(part.get_content_charset() or 'utf-8', 'replace')
    return None

def split(data):
    data = data.replace(b'\r\n', b'\n')
    head, _, body = data.partition(b'\n\n')
    fields, cur = [], None
    for line in head.split(b'\n'):
        if line[:1] in (b' ', b'\t') and cur is not None:
            cur += b' ' + line.strip()
            fields[-1] = cur
        else:
            cur = line
            fields.append(cur)
    norm = [b' '.join(f.split()) for f in fields]
    return norm, body

def main(argv):
    cmd = argv[1]
    if cmd in ('text', 'html'):
        out = body_of(parse(argv[2]), 'plain' if cmd == 'text' else 'html')
        if out is None:
            return 1
        sys.stdout.write(out)
    elif cmd == 'header':
        for v in parse(argv[2]).get_all(argv[3]) or []:
            print(' '.join(str(v).split()))
    elif cmd == 'save':
        for part in parse(argv[2]).walk():
            if part.is_multipart():
                continue
            if part.get_content_type() == argv[3] or part.get_filename() == argv[3]:
                with open(argv[4], 'wb') as f:
                    f.write(part.get_payload(decode=True) or b'')
                return 0
        return 1
    elif cmd == 'leaves':
        for part in parse(argv[2]).walk():
            if not part.is_multipart():
                data = part.get_payload(decode=True) or b''
                print(hashlib.sha256(data).hexdigest(), part.get_content_type(), part.get_filename() or '')
    elif cmd == 'unchanged':
        oh, ob = split(load(argv[2]))
        dh, db = split(load(argv[3]))
        # smtp-sink's dump ends with blank lines of its own.
        if ob.rstrip(b'\n') != db.rstrip(b'\n'):
            print('body differs', file=sys.stderr)
            return 1
        pos = 0
        for h in oh:
            try:
                pos = dh.index(h, pos) + 1
            except ValueError:
                print('header missing or moved: %r' % h, file=sys.stderr)
                return 1
    elif cmd == 'seven-bit':
        data = load(argv[2])
        if any(b > 127 for b in data) or any(len(l) > 998 for l in data.split(b'\n')):
            return 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0

sys.exit(main(sys.argv))
