"""Drive headless Chromium over the DevTools protocol (a pipe, no extra package): console, screenshots.

A test tool (like report_browser.py), used by tests/tensorboard and
scripts/screenshot_tensorboard.py.

Used to check that a web page (TensorBoard's dashboards) loads without console
errors, uncaught exceptions or failed requests, to wait until it shows what it
should, and to screenshot it. Chromium's ``--enable-logging`` output cannot tell
a ``console.error`` from a ``console.log``; the protocol can.

    with Devtools() as browser:
        page = browser.open("http://127.0.0.1:6006/#hparams", until="deepText().includes('adam')")
        page.errors, browser.screenshot("shot.png")
"""

from __future__ import annotations

import base64
import json
import logging
import os
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.report_browser import _FLAGS, find_chromium

log = logging.getLogger(__name__)

# Text of the whole page, shadow roots included (TensorBoard is built of web components).
DEEP_TEXT = """function deepText(root) {
  root = root || document; let out = '';
  const walk = (node) => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === 3) out += child.textContent + ' ';
      else if (child.nodeType === 1 || child.nodeType === 11) walk(child);
    }
  };
  walk(root.body || root); return out;
}"""


@dataclass
class PageLoad:
    url: str
    ready: bool = False  # the ``until`` condition became true in time
    errors: list[str] = field(default_factory=list)  # console.error, uncaught exceptions, failed loads
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Devtools:
    """One headless Chromium, talked to over ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self, width: int = 1400, height: int = 900, chromium: str | None = None) -> None:
        self.chromium = chromium or find_chromium()
        if not self.chromium:
            raise FileNotFoundError("no Chromium found (apt-get install chromium, or set HARNESS_CHROMIUM)")
        self.size = (width, height)
        self._id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self.session = ""

    def __enter__(self) -> Devtools:
        self._profile = tempfile.TemporaryDirectory(prefix="harness-devtools-")
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def fds() -> None:  # in the child: the protocol's fixed descriptors
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen(
            [self.chromium, *_FLAGS, "--remote-debugging-pipe", f"--window-size={self.size[0]},{self.size[1]}",
             f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=fds, start_new_session=True)
        os.close(to_child)
        os.close(from_child)
        target = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=self.size[0], height=self.size[1],
                  deviceScaleFactor=1, mobile=False)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._send("Browser.close", {}, session=False)
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - closing must not mask the real error
            pass
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
            os.close(self._write)
            os.close(self._read)
            self._profile.cleanup()

    # ---------------------------------------------------------------- protocol
    def _send(self, method: str, params: dict[str, Any], session: bool = True) -> int:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._write, json.dumps(msg).encode() + b"\0")
        return self._id

    def _next(self, timeout: float) -> dict[str, Any] | None:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        wanted = self._send(method, params, session=not method.startswith(("Target.", "Browser.")))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._next(max(0.01, deadline - time.monotonic()))
            if msg is None:
                break
            if msg.get("id") == wanted:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._events.append(msg)
        raise TimeoutError(f"Chromium did not answer {method} within {timeout:g} s")

    # ---------------------------------------------------------------- pages
    def open(self, url: str, until: str = "true", timeout: float = 60, settle: float = 2.0) -> PageLoad:
        """Load ``url``; wait until the JS expression ``until`` is true (``deepText()`` is defined)."""
        t0 = time.monotonic()
        self._events.clear()
        self.call("Page.navigate", url=url)
        load = PageLoad(url)
        expression = f"(() => {{ {DEEP_TEXT}; try {{ return !!({until}); }} catch (e) {{ return false; }} }})()"
        while time.monotonic() - t0 < timeout:
            value = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
            if value.get("result", {}).get("value") is True:
                load.ready = True
                break
            time.sleep(0.5)
        time.sleep(settle)  # late requests and errors
        load.seconds = time.monotonic() - t0
        return self.console(load)

    def console(self, load: PageLoad | None = None) -> PageLoad:
        """Errors and warnings the page logged since it was opened (also after clicks)."""
        self.call("Runtime.evaluate", expression="1")  # drain what arrived meanwhile
        load = load or PageLoad("")
        load.errors, load.warnings = [], []
        for event in self._events:
            _classify(event, load)
        return load

    def text(self) -> str:
        """The page's visible text, shadow roots included."""
        res = self.call("Runtime.evaluate", expression=f"(() => {{ {DEEP_TEXT}; return deepText(); }})()",
                        returnByValue=True)
        return str(res.get("result", {}).get("value", ""))

    def click(self, text: str, settle: float = 3.0) -> bool:
        """Click the innermost element whose text is ``text`` (case-insensitive), shadow roots included."""
        js = f"""(() => {{
          const want = {json.dumps(text.lower())}; let hit = null;
          const walk = (node) => {{
            if (node.shadowRoot) walk(node.shadowRoot);
            for (const child of node.children || []) {{
              if ((child.textContent || '').trim().toLowerCase() === want) hit = child;
              walk(child);
            }}
          }};
          walk(document.body); if (hit) hit.click(); return !!hit;
        }})()"""
        clicked = self.call("Runtime.evaluate", expression=js, returnByValue=True).get("result", {}).get("value")
        time.sleep(settle)
        return bool(clicked)

    def screenshot(self, png: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        png = Path(png)
        png.parent.mkdir(parents=True, exist_ok=True)
        png.write_bytes(base64.b64decode(data))
        return png


def _classify(event: dict[str, Any], load: PageLoad) -> None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled":
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
        if params.get("type") in ("error", "assert"):
            load.errors.append(f"console.{params['type']}: {text}")
        elif params.get("type") == "warning":
            load.warnings.append(text)
    elif method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        load.errors.append("uncaught: " + str(details.get("exception", {}).get("description") or details.get("text")))
    elif method == "Log.entryAdded":
        entry = params.get("entry", {})
        line = f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip()
        (load.errors if entry.get("level") == "error" else load.warnings).append(line)
