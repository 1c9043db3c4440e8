#!/usr/bin/env python3
"""smtp-capture — a minimal SMTP server that stores each message it accepts in a file.

For the browser tests: inside an empty user + network namespace (unshare -rn) only root is
mapped, and Postfix's smtp-sink insists on switching to another user there. Python standard
library only; one thread per connection; loopback only.

  smtp-capture.py HOST PORT DIR      messages go to DIR/<epoch-ns>.eml, headers first
"""
import os
import socketserver
import sys
import time


class Session(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b'\r\n')

    def handle(self):
        self.reply('220 smtp-capture ready')
        rcpts = []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            verb = line.strip().split(b' ', 1)[0].upper()
            if verb in (b'EHLO', b'HELO'):
                self.reply('250 smtp-capture')
            elif verb == b'MAIL':
                rcpts = []
                self.reply('250 ok')
            elif verb == b'RCPT':
                rcpts.append(line.strip()[8:].decode('utf-8', 'replace'))
                self.reply('250 ok')
            elif verb == b'DATA':
                self.reply('354 go ahead')
                self.store(self.read_data(), rcpts)
                self.reply('250 ok: stored')
            elif verb == b'RSET':
                rcpts = []
                self.reply('250 ok')
            elif verb == b'QUIT':
                self.reply('221 bye')
                return
            else:
                self.reply('250 ok')

    def read_data(self):
        lines = []
        while True:
            line = self.rfile.readline(65536)
            if not line or line in (b'.\r\n', b'.\n'):
                return b''.join(lines)
            lines.append(line[1:] if line.startswith(b'..') else line)

    def store(self, data, rcpts):
        name = os.path.join(self.server.directory, '%d.eml' % time.time_ns())
        with open(name + '.tmp', 'wb') as f:
            f.write(data.replace(b'\r\n', b'\n'))
        os.rename(name + '.tmp', name)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    host, port, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(directory, exist_ok=True)
    with Server((host, port), Session) as server:
        server.directory = directory
        server.serve_forever()


if __name__ == '__main__':
    main()
