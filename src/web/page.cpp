// The chat page. Everything a browser needs is here: no CDN, no framework, no build step. The
// script is served as /app.js and the style as /app.css, so the page runs under
// "Content-Security-Policy: default-src 'self'" with no inline code. User text is only ever set
// with textContent (never parsed as HTML), and every name and message sits in its own <bdi>, so
// neither markup nor a right-to-left override in a message can change the page; bidi controls
// are shown as <U+XXXX>, so one cannot reverse its own message either.
#include "page.h"

#include <array>

namespace achat::web {

namespace {

constexpr std::string_view kHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>a-chat</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>a-chat</h1>
  <p id="state" role="status" aria-live="polite">offline</p>
</header>
<main>
  <form id="login" autocomplete="off">
    <label for="name">Your name</label>
    <input id="name" name="name" maxlength="32" required autofocus>
    <button type="submit">Join</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
  <div id="chat" hidden>
    <section id="people" aria-labelledby="people-title">
      <h2 id="people-title">Online</h2>
      <ul id="online"></ul>
      <button id="refresh" type="button">Refresh</button>
    </section>
    <section id="talk" aria-labelledby="talk-title">
      <h2 id="talk-title" class="sr-only">Conversation</h2>
      <ol id="log" aria-live="polite"></ol>
      <form id="compose" autocomplete="off">
        <label for="to">To</label>
        <input id="to" name="to" placeholder="bob, carol" required>
        <label for="text">Message</label>
        <input id="text" name="text" required>
        <button type="submit">Send</button>
      </form>
    </section>
  </div>
</main>
</body>
</html>
)HTML";

constexpr std::string_view kCss = R"CSS(
*{box-sizing:border-box}
body{margin:0;font:16px/1.4 system-ui,sans-serif;color:#111;background:#fafafa}
header{display:flex;gap:1em;align-items:baseline;padding:.5em 1em;background:#234;color:#fff}
h1{font-size:1.2em;margin:0}
h2{font-size:1em;margin:.2em 0}
#state{margin:0;font-size:.9em}
main{padding:.5em 1em;max-width:60em;margin:auto}
#chat{display:flex;gap:1em}
#chat[hidden],[hidden]{display:none}
#people{flex:0 0 11em}
#online{list-style:none;padding:0;margin:0}
#online button{background:none;border:0;color:#05a;cursor:pointer;padding:.15em 0;font:inherit;text-align:left}
#talk{flex:1;min-width:0}
#log{list-style:none;padding:.5em;margin:0;height:60vh;overflow-y:auto;background:#fff;border:1px solid #ccc}
#log li{padding:.1em 0;overflow-wrap:anywhere}
time{color:#666;font-size:.85em;margin-right:.5em}
.who{font-weight:bold}
.mine .who{color:#264}
.error{color:#a00}
.notice{color:#555;font-style:italic}
form{display:flex;flex-wrap:wrap;gap:.4em;align-items:center;margin:.5em 0}
input{font:inherit;padding:.3em;border:1px solid #888;border-radius:3px}
#text{flex:1;min-width:8em}
#to{width:10em}
button{font:inherit;padding:.3em .8em}
:focus-visible{outline:3px solid #f90;outline-offset:1px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (max-width:40em){#chat{flex-direction:column}#people{flex:none}#log{height:50vh}}
)CSS";

constexpr std::string_view kJs = R"JS('use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const state = $('state'), log = $('log'), online = $('online');
  let name = '', socket = null, joined = false, wanted = false, retrying = false;
  let delay = 500, retryTimer = 0, whoTimer = 0;

  function setState(text) { state.textContent = text; }

  // Bidi controls are shown as <U+XXXX>, as the terminal client shows them: inside its <bdi>
  // an override still reverses the message's own text ("evil override" read "edirrevo live").
  const bidiControls = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
  function shownAs(text) {
    return text.replace(bidiControls,
        (c) => '<U+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') + '>');
  }

  function bdi(text, cls) {
    const b = document.createElement('bdi');
    if (cls) b.className = cls;
    b.textContent = shownAs(text);
    return b;
  }

  // One conversation entry: local time, then its parts (text nodes or elements), never HTML.
  function add(cls, parts) {
    const li = document.createElement('li');
    if (cls) li.className = cls;
    const t = document.createElement('time');
    const now = new Date();
    t.dateTime = now.toISOString();
    t.textContent = now.toLocaleTimeString();
    li.append(t, ...parts);
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(li);
    while (log.children.length > 2000) log.firstElementChild.remove();
    if (atEnd) log.scrollTop = log.scrollHeight;
  }

  function showOnline(list, more) {
    online.replaceChildren();
    $('people-title').textContent = 'Online (' + (list.length + Number(more || 0)) + ')';
    for (const who of list) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.append(bdi(who));
      b.title = 'Write to ' + who;
      b.addEventListener('click', () => address(who));
      li.append(b);
      online.append(li);
    }
    if (more) {
      const li = document.createElement('li');
      li.textContent = '... and ' + more + ' more';
      online.append(li);
    }
  }

  function address(who) {
    const to = $('to');
    const names = to.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (!names.includes(who)) names.push(who);
    to.value = names.join(', ');
    $('text').focus();
  }

  function received(line) {
    if (line.startsWith('from ')) {
      const colon = line.indexOf(': ', 5);
      const from = colon < 0 ? line.slice(5) : line.slice(5, colon);
      const text = colon < 0 ? '' : line.slice(colon + 2);
      add('', [bdi(from, 'who'), document.createTextNode(': '), bdi(text, 'text')]);
    } else if (line.startsWith('online: ')) {
      let names = line.slice(8), more = '';
      const cut = names.match(/(?:^|, )\.\.\. and (\d+) more$/);
      if (cut) { more = cut[1]; names = names.slice(0, cut.index); }
      const list = names.split(', ').filter(Boolean);
      if (!joined) {
        joined = true;
        retrying = false;
        delay = 500;
        setState('online as ' + name);
        add('notice', [document.createTextNode('joined as '), bdi(name, 'who')]);
      }
      showOnline(list, more);
    } else if (line.startsWith('error: ')) {
      const what = line.slice(7);
      if (!joined && retrying && /already online/.test(what)) {
        return;  // our previous session is still being torn down: the next retry gets in
      }
      if (!joined) {  // the login was refused: back to the form, no retry
        wanted = false;
        $('login-error').textContent = what;
        showLogin();
        return;
      }
      add('error', [bdi(line, 'text')]);
    } else {
      add('notice', [bdi(line, 'text')]);
    }
  }

  function connect() {
    clearTimeout(retryTimer);
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    setState('connecting...');
    joined = false;
    socket = new WebSocket(scheme + location.host + '/ws');
    socket.onopen = () => {
      socket.send(name);
      socket.send('/who');
    };
    socket.onmessage = (event) => received(String(event.data));
    socket.onclose = (event) => {
      socket = null;
      clearInterval(whoTimer);
      if (joined) add('notice', [document.createTextNode('disconnected' + (event.reason ? ': ' + event.reason : ''))]);
      joined = false;
      if (!wanted) { setState('offline'); return; }
      const wait = Math.min(delay, 30000) * (0.75 + Math.random() / 2);
      delay = Math.min(delay * 2, 30000);
      setState('reconnecting in ' + Math.round(wait / 1000) + ' s');
      retrying = true;
      retryTimer = setTimeout(connect, wait);
    };
    whoTimer = setInterval(() => { if (joined) socket.send('/who'); }, 15000);
  }

  function showLogin() {
    $('chat').hidden = true;
    $('login').hidden = false;
    $('name').focus();
  }

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    name = $('name').value.trim();
    if (!name) return;
    $('login-error').textContent = '';
    $('login').hidden = true;
    $('chat').hidden = false;
    wanted = true;
    retrying = false;
    delay = 500;
    connect();
    $('to').focus();
  });

  $('compose').addEventListener('submit', (event) => {
    event.preventDefault();
    const to = $('to').value.trim(), text = $('text').value;
    if (!to || !text) return;
    if (!socket || !joined) { add('error', [document.createTextNode('not connected: message not sent')]); return; }
    if (/[\r\n\0]/.test(text)) { add('error', [document.createTextNode('a message is one line')]); return; }
    socket.send(to + ': ' + text);
    add('mine', [document.createTextNode('to '), bdi(to, 'who'), document.createTextNode(': '), bdi(text, 'text')]);
    $('text').value = '';
  });

  $('refresh').addEventListener('click', () => { if (socket && joined) socket.send('/who'); });
})();
)JS";

constexpr std::array kAssets{
    Asset{"/", "text/html; charset=utf-8", kHtml},
    Asset{"/app.js", "text/javascript; charset=utf-8", kJs},
    Asset{"/app.css", "text/css; charset=utf-8", kCss},
};

}  // namespace

const Asset* find_asset(std::string_view path) noexcept {
  for (const Asset& asset : kAssets) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

}  // namespace achat::web
