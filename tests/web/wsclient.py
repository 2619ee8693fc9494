"""A small, strict WebSocket client for tests (RFC 6455), over a plain socket.

It builds frames byte by byte (so tests can send malformed ones) and parses what the server
sends strictly: any frame that is not well-formed raises ProtocolError, which is how a test sees
a corrupted stream. Also starts the server binary and finds its ports in its log.
"""
import base64
import os
import re
import select
import socket
import struct
import subprocess
import threading
import time


class ProtocolError(Exception):
    pass


class Server:
    """a-chat-server on loopback with TCP and web listeners on free ports."""

    def __init__(self, binary, *args):
        self.proc = subprocess.Popen(
            [binary, '127.0.0.1:0', '--web-listen', '127.0.0.1:0', '--stats-interval', '0',
             *args],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        self.log = []
        self.logged = threading.Condition()  # notified for each line the drain thread appends
        self.port = self.web_port = None
        deadline = time.monotonic() + 20
        buffer = b''
        while self.port is None or self.web_port is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stderr], [], [], left)[0]:
                raise RuntimeError('server did not start: ' + '\n'.join(self.log))
            chunk = os.read(self.proc.stderr.fileno(), 65536)
            if not chunk:
                raise RuntimeError('server exited: ' + '\n'.join(self.log))
            buffer += chunk
            *lines, buffer = buffer.split(b'\n')
            for line in lines:
                text = line.decode(errors='replace')
                self.log.append(text)
                if m := re.search(r'serving the web page and WebSocket on [\d.]+:(\d+)', text):
                    self.web_port = int(m.group(1))
                elif m := re.search(r'listening on [\d.]+:(\d+)', text):
                    self.port = int(m.group(1))
        # Keep draining the log so the server never blocks on a full pipe.
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self):
        for line in self.proc.stderr:
            with self.logged:
                self.log.append(line.decode(errors='replace').rstrip('\n'))
                self.logged.notify_all()

    def wait_for_log(self, predicate, timeout=20):
        """True once a log line satisfies `predicate` (the server writes its log asynchronously
        to the test: a line it wrote may not have been read yet), False after `timeout` s."""
        with self.logged:
            return self.logged.wait_for(lambda: any(predicate(line) for line in self.log), timeout)

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        finally:
            self.drain.join(timeout=20)
            self.proc.stderr.close()


def frame(opcode, payload=b'', fin=True, mask=True, rsv=0, length=None):
    """One frame as bytes; `length` overrides the encoded length (for malformed frames)."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack('!H', n)
    else:
        head += bytes([mbit | 127]) + struct.pack('!Q', n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class Client:
    def __init__(self, port, origin=None, host=None, version='13', path='/ws', timeout=10, early=b'',
                 receive_buffer=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:  # before connecting, so the window never shrinks below what was offered
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect(('127.0.0.1', port))
        self.buffer = b''
        host = host or '127.0.0.1:%d' % port
        key = base64.b64encode(os.urandom(16)).decode()
        request = ('GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                   'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: %s\r\n' % (path, host, key, version))
        if origin:
            request += 'Origin: %s\r\n' % origin
        self.sock.sendall((request + '\r\n').encode() + early)  # `early`: frames not waiting for the 101
        head = self._read_until(b'\r\n\r\n').decode()
        self.status = int(head.split(' ', 2)[1])
        self.headers = head

    def _read_until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('closed before %r' % marker)
            self.buffer += chunk
        at = self.buffer.index(marker) + len(marker)
        out, self.buffer = self.buffer[:at], self.buffer[at:]
        return out

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise EOFError('closed mid-frame' if self.buffer else 'closed')
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, text):
        self.sock.sendall(frame(0x1, text.encode() if isinstance(text, str) else text))

    def ping(self, payload=b''):
        self.sock.sendall(frame(0x9, payload))

    def read_frame(self):
        """(opcode, payload) of the next frame, checked strictly."""
        b0, b1 = self._read(2)
        if b0 & 0x70:
            raise ProtocolError('RSV bits set: %02x' % b0)
        if b1 & 0x80:
            raise ProtocolError('server frame masked')
        opcode, n = b0 & 0x0F, b1 & 0x7F
        if opcode not in (0x0, 0x1, 0x2, 0x8, 0x9, 0xA):
            raise ProtocolError('opcode %x' % opcode)
        if n == 126:
            n = struct.unpack('!H', self._read(2))[0]
        elif n == 127:
            n = struct.unpack('!Q', self._read(8))[0]
        if opcode >= 8 and (n > 125 or not b0 & 0x80):
            raise ProtocolError('bad control frame')
        if not b0 & 0x80:
            raise ProtocolError('server fragmented a message')
        return opcode, self._read(n)

    def recv(self):
        """The next text message, skipping pongs; raises on close (ClosedError has the code)."""
        while True:
            opcode, payload = self.read_frame()
            if opcode == 0x1:
                return payload.decode('utf-8')  # strict: invalid UTF-8 raises
            if opcode == 0x8:
                raise Closed(close_code(payload), payload[2:].decode(errors='replace'))
            if opcode == 0xA:
                continue
            raise ProtocolError('unexpected opcode %x' % opcode)

    def expect_close(self):
        """The close code the server sends next (text messages before it are skipped)."""
        while True:
            try:
                opcode, payload = self.read_frame()
            except (EOFError, ConnectionResetError):
                return None
            if opcode == 0x8:
                return close_code(payload)

    def close(self):
        self.sock.close()


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__('closed %s %s' % (code, reason))
        self.code = code


def close_code(payload):
    return struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else None


class TcpClient:
    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        self.file = self.sock.makefile('rb')

    def send(self, line):
        self.sock.sendall(line.encode() + b'\n')

    def recv(self):
        line = self.file.readline()
        if not line:
            raise EOFError('closed')
        return line.decode().rstrip('\n')

    def close(self):
        self.file.close()
        self.sock.close()
