"""Headless Chromium (Debian's), driven through the DevTools protocol over a pipe.

No package beyond the standard library, and no browser downloaded: the tests use
/usr/bin/chromium, which scripts/setup installs. Chromium reads the protocol's
messages on its fd 3 and writes on its fd 4, each message JSON ended by a NUL byte.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Headless, sandboxless (tests run as root), and nothing that talks to a network by itself.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-quic",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


class Browser:
    """One headless Chromium with one page; records console errors and every request."""

    def __init__(self, width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="nnscratch-chromium-")
        to_browser, self._in = os.pipe()
        self._out, from_browser = os.pipe()

        def pipes():
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=pipes,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._id = b"", 0
        self.events, self.errors, self.requests = [], [], []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.resize(width, height)

    def resize(self, width, height):
        """Set the window's size in CSS pixels, one device pixel each."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def close(self):
        self.process.kill()
        self.process.wait()
        os.close(self._in)
        os.close(self._out)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, method, params=None, session=False):
        """Send one command and wait for its answer; events met meanwhile are recorded."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._in, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self._record(answer)

    def _receive(self):
        while b"\0" not in self._buffer:
            chunk = os.read(self._out, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _record(self, event):
        method, params = event.get("method"), event.get("params", {})
        self.events.append(method)
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.exceptionThrown":
            self.errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning"):
            self.errors.append(" ".join(str(a.get("value")) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            self.errors.append(params["entry"]["text"])

    def open(self, url):
        """Load a page afresh (even when only its #fragment is new) and wait until it has
        loaded."""
        for address in ("about:blank", url):
            self.events.clear()
            self.call("Page.navigate", {"url": address}, session=True)
            deadline = time.monotonic() + 30
            while "Page.loadEventFired" not in self.events:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{address} did not load")
                self._record(self._receive())

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page."""
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def press(self, key):
        """Press and release one key, as a person would (ArrowRight, PageDown, ...)."""
        codes = {"ArrowLeft": 37, "ArrowUp": 38, "ArrowRight": 39, "ArrowDown": 40,
                 "PageUp": 33, "PageDown": 34, "Home": 36, "End": 35}  # fmt: skip
        for kind in ("rawKeyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": codes[key]},
                session=True,
            )

    def click(self, selector):
        """Click the middle of an element, as a person would."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
                session=True,
            )

    def screenshot(self):
        """The page as PNG bytes."""
        return base64.b64decode(
            self.call("Page.captureScreenshot", {"format": "png"}, True)["data"]
        )
