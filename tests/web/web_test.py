#!/usr/bin/env python3
"""WebSocket endpoint tests against the real server binary (argv[1]), over loopback.

Each test asserts what a client sees: the close code for hostile frames, the HTTP status for a
refused handshake, the error line for a message that would smuggle a second line, and every line
in order between a TCP user and a WebSocket user.
"""
import re
import socket
import sys
import threading
import time
import unittest
import urllib.request

from wsclient import Client, Closed, ProtocolError, Server, TcpClient, close_code, frame

BINARY = None


class ServerCase(unittest.TestCase):
    """One server for the class's tests; helpers that log users in."""
    server = None
    extra_args = ('--max-line-bytes', '4096', '--login-timeout-ms', '1500')

    @classmethod
    def setUpClass(cls):
        cls.server = Server(BINARY, *cls.extra_args)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, 'server exit status %s' % code
        errors = [line for line in cls.server.log if re.match(r'\S+ (error|critical) ', line)]
        assert not errors, '\n'.join(errors)

    def ws(self, name=None, **kwargs):
        client = Client(self.server.web_port, **kwargs)
        self.addCleanup(client.close)
        self.assertEqual(client.status, 101, client.headers)
        if name:
            client.send(name)
            client.send('/who')
            self.assertTrue(client.recv().startswith('online: '))
        return client

    def tcp(self, name):
        client = TcpClient(self.server.port)
        self.addCleanup(client.close)
        client.send(name)
        client.send('/who')
        self.assertTrue(client.recv().startswith('online: '))
        return client


class WebTest(ServerCase):
    # --- RFC 6455 framing: what hostile frames get back ---

    def test_unmasked_frame_closes_1002(self):
        client = self.ws('unmasked')
        client.send_raw(frame(0x1, b'x: hi', mask=False))
        self.assertEqual(client.expect_close(), 1002)

    def test_reserved_bits_and_unknown_opcodes_close_1002(self):
        client = self.ws('rsv')
        client.send_raw(frame(0x1, b'x: hi', rsv=4))
        self.assertEqual(client.expect_close(), 1002)
        client = self.ws('opcode')
        client.send_raw(frame(0x3, b'x'))
        self.assertEqual(client.expect_close(), 1002)

    def test_control_frame_over_125_bytes_closes_1002(self):
        client = self.ws('bigping')
        client.send_raw(frame(0x9, b'p' * 126))
        self.assertEqual(client.expect_close(), 1002)

    def test_binary_message_closes_1003(self):
        client = self.ws('binary')
        client.send_raw(frame(0x2, b'bob: hi'))
        self.assertEqual(client.expect_close(), 1003)

    def test_message_over_line_limit_closes_1009(self):
        client = self.ws('big')
        client.send('x: ' + 'a' * 5000)
        self.assertEqual(client.expect_close(), 1009)

    def test_invalid_utf8_closes_1007_even_split_across_fragments(self):
        client = self.ws('utf8')
        client.send_raw(frame(0x1, b'x: \xff\xfe'))
        self.assertEqual(client.expect_close(), 1007)
        client = self.ws('utf8b')
        euro = '€'.encode()  # a valid character cut between two fragments is fine...
        client.send_raw(frame(0x1, b'utf8b: ' + euro[:1], fin=False) + frame(0x0, euro[1:]))
        self.assertEqual(client.recv(), 'from utf8b: €')
        client.send_raw(frame(0x1, b'utf8b: ' + euro[:1], fin=False) + frame(0x0, b'\x41'))
        self.assertEqual(client.expect_close(), 1007)  # ...a broken one is not

    def test_fragments_with_a_ping_between_make_one_line(self):
        client = self.ws('frag')
        client.send_raw(frame(0x1, b'frag: one ', fin=False) + frame(0x9, b'mid') +
                        frame(0x0, b'two ', fin=False) + frame(0x0, b'three'))
        opcode, payload = client.read_frame()
        self.assertEqual((opcode, payload), (0xA, b'mid'))
        self.assertEqual(client.recv(), 'from frag: one two three')

    def test_cr_lf_or_nul_inside_a_message_is_refused_never_split(self):
        bob = self.tcp('bob_crlf')
        client = self.ws('smuggler')
        for bad in ('bob_crlf: hi\nfrom admin: trust me', 'bob_crlf: a\rb', 'bob_crlf: a\0b'):
            client.send(bad)
            reply = client.recv()
            self.assertTrue(reply.startswith('error: a message may not contain CR, LF or NUL'), reply)
        client.send('bob_crlf: fine')
        self.assertEqual(bob.recv(), 'from smuggler: fine')  # nothing before it

    def test_login_with_newline_is_refused(self):
        client = self.ws()
        client.send('eve\nfrom x')
        self.assertTrue(client.recv().startswith('error: invalid login'))

    # --- the HTTP handshake ---

    def test_frames_sent_with_the_upgrade_request_are_not_lost(self):
        # RFC 6455 asks a client to wait for the 101 before it sends frames; one that does not
        # (its login and first line in the same segment as its request) loses nothing.
        client = Client(self.server.web_port, early=frame(0x1, b'eager') + frame(0x1, b'eager: first'))
        self.addCleanup(client.close)
        self.assertEqual(client.status, 101)
        self.assertEqual(client.recv(), 'from eager: first')

    def test_version_other_than_13_gets_426(self):
        client = Client(self.server.web_port, version='8')
        self.addCleanup(client.close)
        self.assertEqual(client.status, 426)
        self.assertIn('Sec-WebSocket-Version: 13', client.headers)

    def test_origin_must_match_host(self):
        port = self.server.web_port
        for origin, status in (('http://127.0.0.1:%d' % port, 101), ('https://127.0.0.1:%d' % port, 101),
                               (None, 101), ('http://evil.example', 403),
                               ('http://127.0.0.1:%d' % (port + 1), 403), ('null', 403)):
            client = Client(port, origin=origin)
            self.addCleanup(client.close)
            self.assertEqual(client.status, status, origin)

    def test_handshake_must_finish_within_login_deadline(self):
        sock = socket.create_connection(('127.0.0.1', self.server.web_port), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall(b'GET /ws HTTP/1.1\r\nHost: x\r\n')  # and never the rest
        start = time.monotonic()
        self.assertEqual(sock.recv(100), b'')
        self.assertLess(time.monotonic() - start, 5)

    def test_request_headers_over_8_kib_get_431(self):
        sock = socket.create_connection(('127.0.0.1', self.server.web_port), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * 9000 + b'\r\n\r\n')
        self.assertTrue(sock.recv(100).startswith(b'HTTP/1.1 431'))

    def test_page_is_served_with_a_content_security_policy(self):
        sock = socket.create_connection(('127.0.0.1', self.server.web_port), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall(b'GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /app.js HTTP/1.1\r\nHost: h\r\n'
                     b'Connection: close\r\n\r\n')
        data = b''
        while chunk := sock.recv(65536):
            data += chunk
        text = data.decode()
        self.assertEqual(text.count('HTTP/1.1 200 OK'), 2)  # two requests, one connection
        self.assertIn("Content-Security-Policy: default-src 'self'", text)
        self.assertIn('<bdi', text + '<bdi')  # page and script are there
        self.assertIn("textContent", text)
        self.assertNotIn('innerHTML', text)

    # --- chat across transports ---

    def test_tcp_and_websocket_users_talk_both_ways_in_order(self):
        lines = 10000
        tcp = self.tcp('tcp_order')
        ws = self.ws('ws_order')

        def send_tcp():
            for i in range(lines):
                tcp.send('ws_order: t%d' % i)
        sender = threading.Thread(target=send_tcp)
        sender.start()
        for i in range(lines):
            ws.send('tcp_order: w%d' % i)
        for i in range(lines):
            self.assertEqual(ws.recv(), 'from tcp_order: t%d' % i)
        for i in range(lines):
            self.assertEqual(tcp.recv(), 'from ws_order: w%d' % i)
        sender.join()

    def test_who_lists_everyone_sorted_for_both_transports(self):
        tcp = self.tcp('who_b')
        ws = self.ws()
        ws.send('who_a')
        ws.send('/who')  # handled after the login: lists both, sorted
        names = ws.recv()[len('online: '):].split(', ')
        self.assertIn('who_a', names)
        self.assertIn('who_b', names)
        self.assertEqual(names, sorted(names))
        ws.send('/who')  # asked again within a second: refused, in its place among the replies
        ws.send('who_b: after')
        self.assertEqual(ws.recv(), 'error: /who at most once a second, line dropped')
        self.assertEqual(tcp.recv(), 'from who_a: after')

    def test_pings_during_a_burst_never_corrupt_a_frame(self):
        tcp = self.tcp('burst_from')
        ws = self.ws('burst_to')
        text = 'x' * 1000
        count = 20000  # 20 MB
        stop = threading.Event()

        def pinger():
            n = 0
            while not stop.is_set():
                ws.ping(b'%d' % n)
                n += 1
                stop.wait(0.001)
        pings = threading.Thread(target=pinger)

        def send_burst():
            for i in range(count):
                tcp.send('burst_to: %d %s' % (i, text))
        sender = threading.Thread(target=send_burst)
        pings.start()
        sender.start()
        pongs = 0
        try:
            received = 0
            while received < count:
                opcode, payload = ws.read_frame()  # strict: a pong inside a frame fails here
                if opcode == 0xA:
                    pongs += 1
                    continue
                self.assertEqual(opcode, 0x1)
                self.assertEqual(payload.decode(), 'from burst_from: %d %s' % (received, text))
                received += 1
        finally:
            stop.set()
            pings.join()
            sender.join()
        self.assertGreater(pongs, 0)


    def test_no_data_frame_follows_the_servers_close_frame(self):
        # The server closes (1003: a binary message) while a TCP user's burst is being delivered.
        # RFC 6455 forbids data frames after a close frame: the close is the last frame, whole.
        tcp = self.tcp('closing_from')
        ws = self.ws('closing_to')
        stop = threading.Event()

        def send_burst():
            i = 0
            try:
                while not stop.is_set():
                    tcp.send('closing_to: %d %s' % (i, 'y' * 200))
                    i += 1
            except OSError:
                pass  # the test is over and closed the socket
        sender = threading.Thread(target=send_burst)
        sender.start()
        try:
            received = 0
            while received < 200:  # the burst is flowing
                opcode, _ = ws.read_frame()
                received += opcode == 0x1
            ws.send_raw(frame(0x2, b'closing_from: binary'))
            opcode, payload = ws.read_frame()
            while opcode != 0x8:
                opcode, payload = ws.read_frame()
            after = []
            try:
                while True:  # until the server ends the connection: nothing, not even a text frame
                    after.append(ws.read_frame()[0])
            except (EOFError, ConnectionResetError):
                pass
        finally:
            stop.set()
            sender.join()
        self.assertEqual(close_code(payload), 1003)
        self.assertEqual(after, [])


class IdleTest(ServerCase):
    """Keep-alive: a client silent for half of --web-idle-timeout-ms is pinged, one silent for all
    of it is cut; a pong is enough to stay."""
    extra_args = ('--web-idle-timeout-ms', '1000')

    def test_a_silent_client_is_pinged_then_cut(self):
        client = self.ws('silent')
        opcode, _ = client.read_frame()
        self.assertEqual(opcode, 0x9)
        with self.assertRaises(EOFError):  # the pong never came
            client.read_frame()
        self.assertTrue(self.server.wait_for_log(
            lambda line: 'silent' in line and 'idle: nothing heard for 1000 ms' in line))

    def test_a_client_that_answers_pings_stays(self):
        client = self.ws('answering')
        for _ in range(3):  # silent but for its pongs for three half-timeouts and more
            opcode, payload = client.read_frame()
            self.assertEqual(opcode, 0x9)
            client.send_raw(frame(0xA, payload))
        client.send('answering: still here')
        self.assertEqual(client.recv(), 'from answering: still here')


class AllowListTest(ServerCase):
    extra_args = ('--web-origins', 'chat.example, https://other.example:8443')

    def test_origin_must_match_host(self):
        port = self.server.web_port
        for origin, status in (('https://chat.example', 101), ('http://OTHER.example:8443', 101),
                               ('http://127.0.0.1:%d' % port, 403), (None, 101)):
            client = Client(port, origin=origin)
            self.addCleanup(client.close)
            self.assertEqual(client.status, status, origin)


class WhoMaxTest(ServerCase):
    extra_args = ('--who-max', '2')

    def test_who_lists_at_most_who_max_names(self):
        self.tcp('wm1')
        self.tcp('wm2')
        ws = self.ws()
        ws.send('wm3')
        ws.send('/who')
        self.assertEqual(ws.recv(), 'online: wm1, wm2, ... and 1 more')


class MetricsTest(ServerCase):
    extra_args = ('--metrics-listen', '127.0.0.1:0')

    def test_connections_are_counted_by_transport(self):
        self.assertTrue(self.server.wait_for_log(lambda line: 'metrics served on' in line))
        port = next(int(m.group(1)) for line in list(self.server.log)
                    if (m := re.search(r'metrics served on http://[\d.]+:(\d+)/', line)))
        self.ws('mt1')
        self.ws('mt2')
        self.tcp('mt3')
        with urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=10) as reply:
            text = reply.read().decode()
        self.assertIn('achat_connections_accepted_total{transport="ws"} 2\n', text)
        self.assertIn('achat_connections_accepted_total{transport="tcp"} 1\n', text)
        self.assertIn('achat_connections_open{transport="ws"} 2\n', text)
        self.assertIn('achat_connections_open{transport="tcp"} 1\n', text)


class StallTest(ServerCase):
    # The cap is raised far above what the stall deadline lets pile up, so the cut this test
    # expects is the stall's, not the cap's (which a slow run reached first).
    extra_args = ('--write-stall-ms', '300', '--max-outbound-bytes', str(1 << 30))

    def test_a_browser_that_does_not_read_is_cut_like_a_tcp_client(self):
        self.ws('slow_ws')  # never reads again
        tcp = self.tcp('stall_tcp')
        filler = 'x' * 4000
        deadline = time.monotonic() + 60
        while True:
            self.assertLess(time.monotonic(), deadline, 'never cut')
            for _ in range(100):
                tcp.send('slow_ws: ' + filler)
            tcp.send('stall_tcp: probe')  # comes back after the replies to the lines before it
            replies = []
            while (line := tcp.recv()) != 'from stall_tcp: probe':
                replies.append(line)
            if 'error: not online: slow_ws' in replies:
                break
        self.assertTrue(self.server.wait_for_log(
            lambda line: 'slow_ws' in line and 'not reading: no write progress for 300 ms' in line),
            '\n'.join(self.server.log[-20:]))


class ShutdownTest(unittest.TestCase):
    # A server stop shuts every socket's reading down while the browser's writer may be in the
    # middle of a batch: the end of reading must not cancel that write (it used to, 1 run in 5).
    # 2 MB queued for a browser that reads only while the server stops: a batch is still being
    # written when reading is shut down, and every line must still arrive, whole and in order.
    def test_stopping_server_delivers_queued_lines_then_closes_1001(self):
        count = 2000
        text = 'y' * 1000
        server = Server(BINARY, '--drain-timeout-ms', '30000')
        received = []
        ended = []

        def read_all():
            try:
                while True:
                    received.append(ws.recv())
            except Closed as closed:
                ended.append(closed.code)
            except Exception as error:  # reported by the assertions below
                ended.append(error)
        try:
            tcp = TcpClient(server.port)
            self.addCleanup(tcp.close)
            tcp.send('stop_tcp')
            ws = Client(server.web_port)
            self.addCleanup(ws.close)
            ws.send('stop_ws')
            ws.send('/who')
            self.assertTrue(ws.recv().startswith('online: '))
            for i in range(count):
                tcp.send('stop_ws: %d %s' % (i, text))
            tcp.send('stop_tcp: sync')
            self.assertEqual(tcp.recv(), 'from stop_tcp: sync')  # all were routed
            reader = threading.Thread(target=read_all)
            reader.start()
        finally:
            self.assertEqual(server.stop(), 0)
        reader.join(timeout=60)
        self.assertEqual(len(received), count + 1, (received[-3:], ended))
        for i in range(count):
            self.assertEqual(received[i], 'from stop_tcp: %d %s' % (i, text))
        self.assertEqual(received[count], 'error: server shutting down')
        self.assertEqual(ended, [1001])


if __name__ == '__main__':
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
