#!/usr/bin/env python3
"""The chat page in a real browser (Debian's chromium, headless, driven by selenium).

argv: the server binary, and where to save the screenshot. A browser user logs in, sees a TCP
user in the online list, writes to it by clicking its name, receives its reply, sees an HTML
message shown as text (not run), and survives a server restart by reconnecting. Every wait is
for a condition in the page, with a deadline.
"""
import os
import socket
import sys
import tempfile
import unittest

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from wsclient import Server, TcpClient

BINARY = SCREENSHOT = None
XSS = "<img src=x onerror=\"document.title='pwned'\">"


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class BrowserTest(unittest.TestCase):
    def start_server(self, web_port):
        server = Server(BINARY, '--web-listen', '127.0.0.1:%d' % web_port)
        self.assertEqual(server.web_port, web_port)
        return server

    def setUp(self):
        self.profile = tempfile.TemporaryDirectory()
        options = webdriver.ChromeOptions()
        options.binary_location = '/usr/bin/chromium'
        for flag in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                     '--disable-component-update', '--disable-sync', '--no-first-run',
                     '--window-size=900,650', '--user-data-dir=' + self.profile.name):
            options.add_argument(flag)
        self.browser = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)
        self.addCleanup(self.profile.cleanup)
        self.addCleanup(self.browser.quit)

    def wait_for(self, what, condition, seconds=20):
        return WebDriverWait(self.browser, seconds).until(lambda _: condition(), message=what)

    def log_texts(self):
        return [li.text for li in self.browser.find_elements(By.CSS_SELECTOR, '#log li')]

    def test_chat_in_a_browser(self):
        web_port = free_port()
        server = self.start_server(web_port)
        try:
            bob = TcpClient(server.port)
            bob.send('bob')
            bob.send('/who')
            self.assertTrue(bob.recv().startswith('online: '))  # bob is online
            b = self.browser
            b.get('http://127.0.0.1:%d/' % web_port)
            b.find_element(By.ID, 'name').send_keys('alice', Keys.ENTER)
            self.wait_for('online', lambda: b.find_element(By.ID, 'state').text == 'online as alice')
            self.wait_for('bob listed', lambda: 'bob' in b.find_element(By.ID, 'online').text)

            b.find_element(By.XPATH, "//ul[@id='online']//button[normalize-space()='bob']").click()
            self.assertEqual(b.find_element(By.ID, 'to').get_attribute('value'), 'bob')
            b.find_element(By.ID, 'text').send_keys('hello bob', Keys.ENTER)
            self.assertEqual(bob.recv(), 'from alice: hello bob')

            bob.send('alice: hi alice')
            bob.send('alice: ' + XSS)
            bob.send('alice: \u202eevil override')
            self.wait_for('lines shown', lambda: any(XSS in t for t in self.log_texts()))
            self.assertTrue(any('bob: hi alice' in t for t in self.log_texts()))
            self.wait_for('override shown', lambda: any('<U+202E>evil override' in t for t in self.log_texts()))
            self.assertEqual(b.find_elements(By.CSS_SELECTOR, '#log img'), [])
            self.assertEqual(b.title, 'a-chat')
            bob.send('alice, nobody_here: is anyone there')
            self.assertEqual(bob.recv(), 'error: not online: nobody_here')
            b.find_element(By.ID, 'to').clear()
            b.find_element(By.ID, 'to').send_keys('ghost')
            b.find_element(By.ID, 'text').send_keys('anyone?', Keys.ENTER)
            self.wait_for('error inline', lambda: any('not online: ghost' in t for t in self.log_texts()))
            b.save_screenshot(SCREENSHOT)
            bob.close()
        finally:
            self.assertEqual(server.stop(), 0)

        # The server restarts on the same port: the page reconnects and logs in again by itself.
        self.wait_for('reconnecting', lambda: 'reconnecting' in self.browser.find_element(By.ID, 'state').text
                      or 'connecting' in self.browser.find_element(By.ID, 'state').text)
        server = self.start_server(web_port)
        try:
            self.wait_for('online again', lambda: self.browser.find_element(By.ID, 'state').text ==
                          'online as alice', seconds=60)
            carol = TcpClient(server.port)
            carol.send('carol')
            carol.send('alice: back?')
            self.wait_for('after restart', lambda: any('carol: back?' in t for t in self.log_texts()))
            carol.close()
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == '__main__':
    BINARY = sys.argv.pop(1)
    SCREENSHOT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
