"""The hosted pages (`/ui/…`) in a real browser: one `authgate serve` with the pages and the
admin console on, mailing a loopback SMTP sink (`hosted_stack`); and the checks every page a walk
visits must pass (`PageCheck`): the markup the pages keep (docs/hosted-pages.md), the headers the
browser received, a console without errors or CSP violations, and axe-core's serious and
critical rules, and the keyboard: every control reached by Tab, in document order, each showing
the theme's focus outline.

axe-core comes from npm, pinned by tests/browser/package-lock.json; `axe_source()` runs `npm ci`
there when node_modules is missing or holds another version (support/npm.py: skipped without npm
or the registry, failed in CI).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import httpx
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from authgate.delivery.templates import SUBJECTS
from authgate.security.origins import origin_of
from authgate.ui.templating import SHIPPED
from tests.support.browser import started
from tests.support.http import STRONG_PASSWORD
from tests.support.mail import Mailbox, link_in, mail_code
from tests.support.npm import npm_ci
from tests.support.paths import ROOT
from tests.support.server import PATIENCE, free_port, run_authgate, server_env, wait_healthy

CODE_SUBJECT = SUBJECTS["otp_code"]
PRODUCT = "Acme ID"  # AUTHGATE_UI_PRODUCT_NAME: every title must end with it
APP_ORIGIN = "http://app.example.test:8443"  # on the redirect allow-list: a form-action source
NPM_FOLDER = ROOT / "tests" / "browser"
AXE_PACKAGE = NPM_FOLDER / "node_modules" / "axe-core"
HEADERS = {
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
}


def locales() -> str:
    """`en`, and `de` once the package ships its catalogue."""
    return "en,de" if (SHIPPED / "locales" / "de" / "LC_MESSAGES" / "authgate.po").is_file() else "en"


# --- axe-core -----------------------------------------------------------------------------------


def axe_source() -> str:
    """The text of `axe.min.js`, the version package-lock.json pins (installed first if need be)."""
    npm_ci(NPM_FOLDER, "the hosted pages' accessibility checks load axe-core from npm")
    return (AXE_PACKAGE / "axe.min.js").read_text()


# --- the server -------------------------------------------------------------------------------------


@dataclass
class HostedStack:
    """authgate at `base` (`http://localhost:PORT`, where browsers allow passkeys), its settings,
    and the SMTP sink it mails."""

    base: str
    workdir: Path
    env: dict[str, str]
    mailbox: Mailbox
    log_path: Path

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def csp(self) -> str:
        return self.policy()

    def policy(self, *form_targets: str) -> str:
        """The exact CSP of a page whose forms may also end at `form_targets` (origins): an
        OpenID app's redirect origin while its request is pending."""
        sources = " ".join(("'self'", APP_ORIGIN, *form_targets))
        return (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            f"form-action {sources}; frame-ancestors 'none'; base-uri 'none'"
        )

    def authgate(self, *args: str) -> subprocess.CompletedProcess[str]:
        """An `authgate` command on the server's database."""
        return run_authgate(self.workdir, *args, **self.env)

    def mail(self, address: str, path: str, count: int = 1) -> str:
        """The link to `path` in the `count`-th message to `address` that has one."""
        return link_in(self._nth(address, lambda m: path in m.as_string(), count, f"a link to {path}"), path)

    def code(self, address: str, count: int = 1) -> str:
        """The one-time code in the `count`-th message to `address` that carries one."""
        return mail_code(self._nth(address, lambda m: m["Subject"] == CODE_SUBJECT, count, "a code"))

    def _nth(self, address: str, wanted: Callable[[EmailMessage], bool], count: int, what: str) -> EmailMessage:
        deadline = time.monotonic() + PATIENCE
        while True:
            found = [m for m in self.mailbox.to(address) if wanted(m)]
            if len(found) >= count:
                return found[count - 1]
            assert time.monotonic() < deadline, f"no message #{count} to {address} with {what}"
            time.sleep(0.05)

    # Accounts made through the API, for walks that are not about registering.

    def account(self, *, password: str = STRONG_PASSWORD, role: str | None = None) -> str:
        """A new account with a verified address (a fresh address each time); its email."""
        email = new_email()
        if role is not None:
            made = self.authgate(
                "user", "create", "--email", email, "--password", password, "--role", role, "--verified"
            )
            assert made.returncode == 0, made.stderr
            return email
        registered = httpx.post(self.url("/register"), json={"email": email, "password": password}, timeout=PATIENCE)
        assert registered.status_code == 201, registered.text
        verified = httpx.get(self.mail(email, "/email/verify/"), headers={"Accept": "application/json"})
        assert verified.status_code == 200, verified.text
        return email

    def whoami(self, driver: webdriver.Chrome) -> str | None:
        """The email of the account the browser's `accessToken` cookie for this server signs in,
        asked of the API (whichever origin the browser shows: DevTools reads the cookie jar)."""
        held = driver.execute_cdp_cmd("Network.getCookies", {"urls": [self.base + "/"]})["cookies"]
        cookies = {c["name"]: c["value"] for c in held}
        if "accessToken" not in cookies:
            return None
        answer = httpx.get(self.url("/user"), cookies={"accessToken": cookies["accessToken"]})
        return str(answer.json()["email"]) if answer.status_code == 200 else None


def new_email() -> str:
    return f"walker-{uuid.uuid4().hex[:12]}@example.com"


@contextmanager
def hosted_stack(workdir: Path, **settings: str) -> Iterator[HostedStack]:
    """`authgate serve --host localhost` on SQLite in `workdir` with the pages, the admin console
    and email verification on, low bcrypt cost, no rate limits, mailing a fresh SMTP sink;
    `settings` (environment variables) added or overriding."""
    mailbox = Mailbox()
    mailbox.start()
    log_path = workdir / "authgate.log"
    try:
        for attempt in range(3):
            port = free_port()
            base = f"http://localhost:{port}"
            env = {
                "AUTHGATE_PUBLIC_URL": base,  # AUTHGATE_PASSKEY_RP_ID unset: `localhost`
                "AUTHGATE_COOKIE_SECURE": "false",
                "AUTHGATE_UI": "true",
                "AUTHGATE_UI_ADMIN": "true",
                "AUTHGATE_UI_PRODUCT_NAME": PRODUCT,
                "AUTHGATE_UI_LOCALES": locales(),
                "AUTHGATE_REDIRECT_ALLOWLIST": APP_ORIGIN,
                "AUTHGATE_REQUIRE_EMAIL_VERIFICATION": "true",
                "AUTHGATE_SMTP_HOST": "127.0.0.1",
                "AUTHGATE_SMTP_PORT": str(mailbox.port),
                "AUTHGATE_SMTP_STARTTLS": "false",
                "AUTHGATE_SMTP_FROM": "auth@pages.example",
                "AUTHGATE_DELIVERY_RETRY_BASE_SECONDS": "0.05",
                **settings,
            }
            logged = log_path.stat().st_size if log_path.exists() else 0
            process = started(
                [sys.executable, "-m", "authgate", "serve", "--host", "localhost", "--port", str(port)],
                workdir,
                server_env(workdir, None, **env),
                log_path,
            )
            try:
                wait_healthy(process, base, log_path)
                break
            except BaseException:
                process.kill()
                process.wait()
                lost = "address already in use" in log_path.read_bytes()[logged:].decode(errors="replace")
                if not lost or attempt == 2:
                    raise
        try:
            yield HostedStack(base=base, workdir=workdir, env=env, mailbox=mailbox, log_path=log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        mailbox.stop()


# --- every page -----------------------------------------------------------------------------------

# The markup rules of docs/hosted-pages.md that the DOM shows; each broken rule is one line.
MARKUP_RULES = r"""
const problems = [];
const say = (text) => problems.push(text);
const describe = (el) => {
  let text = "<" + el.tagName.toLowerCase();
  for (const name of ["id", "name", "type", "href", "class"]) {
    if (el.hasAttribute(name)) text += " " + name + '="' + el.getAttribute(name) + '"';
  }
  return text + ">";
};
const visible = (el) => {
  const box = el.getBoundingClientRect();
  return el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) && box.width > 0 && box.height > 0;
};
if (!document.documentElement.getAttribute("lang")) say("<html> has no lang");
const headings = document.querySelectorAll("h1");
if (headings.length !== 1) say(headings.length + " <h1> elements, not one");
if (!document.querySelector("header")) say("no <header>");
if (!document.querySelector("main#main")) say('no <main id="main">');
const ids = new Map();
for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
for (const [id, count] of ids) if (count > 1) say('id "' + id + '" is used ' + count + " times");
const labels = Array.from(document.querySelectorAll("label"));
for (const label of labels) {
  if (!label.htmlFor) say("a <label> without for: " + label.textContent.trim());
  else if (!document.getElementById(label.htmlFor)) say('<label for="' + label.htmlFor + '"> names no element');
}
const autocomplete = { password: ["current-password", "new-password"], currentPassword: ["current-password"], code: ["one-time-code"] };
for (const el of document.querySelectorAll("input, select, textarea")) {
  if (el.type === "hidden") continue;
  if (!el.id || el.id !== el.getAttribute("name")) say(describe(el) + ": its id is not its name");
  const own = labels.filter((label) => label.htmlFor && label.htmlFor === el.id);
  if (own.length !== 1) say(describe(el) + " has " + own.length + " <label for> elements, not one");
  else if (!visible(own[0])) say(describe(el) + ": its label is not visible");
  const tokens = autocomplete[el.getAttribute("name")];
  if (tokens && !tokens.includes((el.getAttribute("autocomplete") || "").trim())) {
    say(describe(el) + ' has autocomplete="' + el.getAttribute("autocomplete") + '", not one of ' + tokens.join(", "));
  }
}
for (const script of document.querySelectorAll("script")) {
  if (!script.getAttribute("src")) say("an inline <script>");
  else if (new URL(script.src).origin !== location.origin) say("a script from another origin: " + script.src);
}
if (document.querySelector("style")) say("a <style> element");
for (const link of document.querySelectorAll("link[rel~=stylesheet]")) {
  if (new URL(link.href).origin !== location.origin) say("a stylesheet from another origin: " + link.href);
}
for (const el of document.querySelectorAll("*")) {
  for (const attribute of el.attributes) {
    if (/^on/i.test(attribute.name)) say(describe(el) + " has " + attribute.name + "=");
    if (attribute.name === "style") say(describe(el) + " has a style attribute");
    if (["href", "src", "action", "formaction"].includes(attribute.name) && /^\s*javascript:/i.test(attribute.value)) {
      say(describe(el) + " has a javascript: URL");
    }
  }
  if (el.hasAttribute("tabindex") && parseInt(el.getAttribute("tabindex"), 10) > 0) say(describe(el) + " has a positive tabindex");
}
const focusable = Array.from(document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")).filter(
  (el) => !el.disabled && el.type !== "hidden" && !el.closest("[hidden]") && el.getAttribute("tabindex") !== "-1"
);
const first = focusable[0];
if (!first || first.tagName !== "A" || first.getAttribute("href") !== "#main") {
  say("the first focusable element is " + (first ? describe(first) : "nothing") + ', not the "Skip to content" link');
}
for (const form of document.querySelectorAll("form")) {
  const method = (form.getAttribute("method") || "").toLowerCase();
  if (method !== "post" && method !== "get") say(describe(form) + ' has method="' + method + '"');
  if (method === "post" && !form.querySelector('input[type=hidden][name="csrf_token"]')) say(describe(form) + " has no csrf_token");
}
for (const button of document.querySelectorAll("button")) {
  const type = button.getAttribute("type");
  if (button.dataset.passkey !== undefined) {
    if (type !== "button" || !button.closest("form")) say(describe(button) + ": a passkey button is type=button inside its form");
  } else if (type !== "submit" || !button.closest("form")) {
    say(describe(button) + ' ("' + button.textContent.trim() + '") is not a submit button inside a form');
  }
}
for (const table of document.querySelectorAll("table")) {
  if (!table.querySelector("caption")) say("a <table> without <caption>");
  for (const th of table.querySelectorAll("thead th")) {
    if (th.getAttribute("scope") !== "col") say("<th>" + th.textContent.trim() + '</th> without scope="col"');
  }
}
const summary = document.getElementById("error-summary");
const linked = new Set();
if (summary) {
  if (summary.getAttribute("role") !== "alert" || summary.getAttribute("tabindex") !== "-1") {
    say('#error-summary lacks role="alert" tabindex="-1"');
  }
  if (summary.parentElement !== document.querySelector("main") || summary !== document.querySelector("main").firstElementChild) {
    say("#error-summary is not at the top of <main>");
  }
  for (const link of summary.querySelectorAll("a[href^='#']")) {
    const name = link.getAttribute("href").slice(1);
    linked.add(name);
    const target = document.getElementById(name);
    if (!target) { say("the error summary links to #" + name + ", which is not on the page"); continue; }
    if (target.getAttribute("aria-invalid") !== "true") say("#" + name + " has an error but no aria-invalid");
    const described = (target.getAttribute("aria-describedby") || "").split(/\s+/);
    const message = document.getElementById(name + "-error");
    if (!described.includes(name + "-error") || !message || message.tagName !== "P") {
      say("#" + name + " is not described by a <p id=" + name + "-error>");
    } else if (message.textContent.trim() !== link.textContent.trim()) {
      say("#" + name + "-error says something else than the summary");
    }
  }
}
for (const el of document.querySelectorAll("[aria-invalid]")) {
  if (el.getAttribute("aria-invalid") !== "false" && !linked.has(el.id)) say(describe(el) + " is aria-invalid without an error in the summary");
}
return problems;
"""

AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] }).then(
  (results) => done(results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }))),
  (error) => done({ error: String(error) }),
);
"""


# The controls Tab must reach, in document order (no page uses a positive tabindex); kept on the
# window for the steps that follow, with the theme's primary colour as the browser computes it.
TAB_STOPS = r"""
const stops = Array.from(document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")).filter(
  (el) => el.tabIndex >= 0 && !el.disabled && el.type !== "hidden" && !el.inert
    && el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })
);
const probe = document.createElement("span");
probe.style.setProperty("color", getComputedStyle(document.documentElement).getPropertyValue("--authgate-primary"));
document.body.append(probe);
const primary = getComputedStyle(probe).color;
probe.remove();
window.__tabStops = { stops, primary, before: document.activeElement };
if (stops.length) stops[0].focus();
return stops.length;
"""

# After the walk, the focus goes back where the page had it (an autofocus field, the error
# summary), or, when nothing had it, to the start of the document, so that the walk's own
# steps after the check find the page as it loaded.
FOCUS_BACK = r"""
const { before } = window.__tabStops;
if (before && before !== document.body && before !== document.documentElement) {
  before.focus();
} else {
  document.activeElement.blur();
  document.body.setAttribute("tabindex", "-1");
  document.body.focus();
  document.body.blur();
  document.body.removeAttribute("tabindex");
}
"""

# Where the focus is after a Tab: its place among the stops (-1: elsewhere), and whether it is
# seen: on screen, with an outline of at least 2 px in the primary colour.
FOCUS_SEEN = r"""
const { stops, primary } = window.__tabStops;
const el = document.activeElement;
const describe = (el) => el ? "<" + el.tagName.toLowerCase() + (el.id ? ' id="' + el.id + '"' : "")
  + (el.getAttribute("name") ? ' name="' + el.getAttribute("name") + '"' : "") + ">" : "nothing";
const style = getComputedStyle(el);
const box = el.getBoundingClientRect();
const problems = [];
if (style.outlineStyle === "none" || parseFloat(style.outlineWidth) < 2) {
  problems.push(describe(el) + ": no focus outline of 2 px or more (" + style.outlineWidth + " " + style.outlineStyle + ")");
} else if (style.outlineColor !== primary) {
  problems.push(describe(el) + ": its focus outline is " + style.outlineColor + ", not the primary colour " + primary);
}
if (box.width <= 0 || box.height <= 0 || box.bottom < 0 || box.top > innerHeight || box.right < 0 || box.left > innerWidth) {
  problems.push(describe(el) + ": focused but not on screen");
}
return { index: stops.indexOf(el), name: describe(el), problems };
"""


def keyboard_problems(driver: webdriver.Chrome) -> list[str]:
    """Tab from the first control to the last, as a person at the keyboard: each Tab must land on
    the next control in document order, shown with the theme's focus outline. The page is not
    changed (Tab only moves the focus, and it goes back where it was)."""
    count = int(driver.execute_script(TAB_STOPS))
    problems = []
    for expected in range(1, count):
        for kind in ("keyDown", "keyUp"):
            driver.execute_cdp_cmd(
                "Input.dispatchKeyEvent", {"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9}
            )
        seen = driver.execute_script(FOCUS_SEEN)
        if seen["index"] != expected:
            problems.append(f"Tab #{expected} reached {seen['name']}, not control #{expected} in document order")
            break
        problems += seen["problems"]
    driver.execute_script(FOCUS_BACK)
    return problems


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]


@dataclass
class PageCheck:
    """`check(driver, "step")`: the page the browser shows passes every rule; a screenshot of it
    is kept. `status` is the HTTP status the page was expected to come with, `csp` the exact
    policy every page must carry (`check(…, csp=…)`: the policy of this one page)."""

    csp: str
    axe: str
    screenshot: Callable[..., None]
    responses: dict[int, Response] = field(default_factory=dict)  # the last document of each driver

    def __call__(
        self, driver: webdriver.Chrome, step: str, *, status: int = 200, lang: str = "en", csp: str | None = None
    ) -> None:
        self.screenshot(step, driver)
        url = urldefrag(driver.current_url).url
        response = self.document(driver)
        assert response is not None and response.url == url, f"{step}: no response seen for {url}"
        problems = [f"HTTP {response.status}, not {status}"] if response.status != status else []
        problems += self.header_problems(response, csp or self.csp)
        problems += self.console_problems(driver, response)
        title = driver.title
        if not title.endswith(f" · {PRODUCT}") or len(title) <= len(f" · {PRODUCT}"):
            problems.append(f"the title {title!r} is not '<page> · {PRODUCT}'")
        shown_lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        if shown_lang != lang:
            problems.append(f'<html lang="{shown_lang}">, not {lang}')
        problems += list(driver.execute_script(MARKUP_RULES))
        problems += self.axe_problems(driver)
        problems += keyboard_problems(driver)
        assert not problems, f"{step} ({urlsplit(url).path}) breaks the page rules:\n  " + "\n  ".join(problems)

    def document(self, driver: webdriver.Chrome) -> Response | None:
        """The last top-level document the browser received (from DevTools' network events)."""
        for entry in browser_log(driver, "performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] != "Network.responseReceived" or message["params"]["type"] != "Document":
                continue
            received = message["params"]["response"]
            self.responses[id(driver)] = Response(
                url=urldefrag(received["url"]).url,
                status=int(received["status"]),
                headers={name.lower(): value for name, value in received["headers"].items()},
            )
        return self.responses.get(id(driver))

    def header_problems(self, response: Response, csp: str) -> list[str]:
        expected = {**HEADERS, "content-security-policy": csp}
        return [
            f"{name}: {response.headers.get(name)!r}, not {value!r}"
            for name, value in expected.items()
            if response.headers.get(name) != value
        ]

    @staticmethod
    def console_problems(driver: webdriver.Chrome, response: Response) -> list[str]:
        """Errors and CSP reports in the console since the last check; the page's own load
        failing with the status it was expected to have is no error, nor is the browser's
        request for `/favicon.ico`, which the pages never name."""
        problems = []
        for entry in browser_log(driver, "browser"):
            text = entry["message"]
            own_status = entry["source"] == "network" and text.startswith(
                f"{response.url} - Failed to load resource: the server responded with a status of {response.status}"
            )
            favicon = entry["source"] == "network" and text.startswith(f"{origin_of(response.url)}/favicon.ico ")
            if (entry["level"] == "SEVERE" and not own_status and not favicon) or "Content Security Policy" in text:
                problems.append(f"console {entry['level']}: {text}")
        return problems

    def axe_problems(self, driver: webdriver.Chrome) -> list[str]:
        if not driver.execute_script("return typeof window.axe === 'object'"):
            driver.execute_script(self.axe)
        found = driver.execute_async_script(AXE_RUN)
        if isinstance(found, dict):
            return [f"axe-core did not run: {found['error']}"]
        problems = []
        for violation in found:
            if violation["impact"] not in ("serious", "critical"):
                continue
            problems.append(f"axe {violation['impact']} {violation['id']}: {violation['help']}")
            problems += [f"    {node['target']}: {node['summary']}" for node in violation["nodes"]]
        return problems


def browser_log(driver: webdriver.Chrome, kind: str) -> list[dict[str, Any]]:
    """The entries of the `browser` (console) or `performance` (DevTools events) log since the
    last read; reading empties it."""
    entries: list[dict[str, Any]] = driver.get_log(kind)  # type: ignore[no-untyped-call]
    return entries


def drain_logs(driver: webdriver.Chrome) -> None:
    """Forget what the console and the network did so far."""
    browser_log(driver, "browser")
    browser_log(driver, "performance")


# --- reading and using the pages -----------------------------------------------------------------


def path_of(driver: webdriver.Chrome) -> str:
    parts = urlsplit(driver.current_url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def wait_for_path(driver: webdriver.Chrome, path: str) -> None:
    """Until the browser shows `path` (without its query), after a form's redirect."""
    WebDriverWait(driver, PATIENCE).until(
        lambda d: urlsplit(d.current_url).path == path and d.execute_script("return document.readyState") == "complete",
        message=f"waiting for {path}",
    )


def literal(text: str) -> str:
    """`text` as an XPath string literal."""
    assert '"' not in text, text
    return f'"{text}"'


def button(driver: webdriver.Chrome, text: str, within: WebElement | None = None) -> WebElement:
    """The one button that says `text`."""
    found = (within or driver).find_elements(By.XPATH, f".//button[normalize-space()={literal(text)}]")
    assert len(found) == 1, f"{len(found)} buttons say {text!r} on {driver.current_url}"
    return found[0]


def link(driver: webdriver.Chrome, text: str) -> WebElement:
    """The one link in <main> that says `text`."""
    found = driver.find_elements(By.XPATH, f"//main//a[normalize-space()={literal(text)}]")
    assert len(found) == 1, f"{len(found)} links say {text!r} on {driver.current_url}"
    return found[0]


def fill(driver: webdriver.Chrome, **fields: str) -> None:
    """Type into the fields whose ids (= names) are given."""
    for name, value in fields.items():
        box = driver.find_element(By.ID, name)
        box.clear()
        box.send_keys(value)


def press(driver: webdriver.Chrome, text: str, then: str) -> None:
    """Click the button that says `text` and wait for the next page, at path `then`."""
    press_within(driver, None, text, then)


def press_within(driver: webdriver.Chrome, within: WebElement | None, text: str, then: str) -> None:
    """`press`, for the button that says `text` inside `within` (a table row)."""
    before = driver.find_element(By.TAG_NAME, "html")
    button(driver, text, within).click()
    WebDriverWait(driver, PATIENCE).until(_left(before), message=f"a new page after {text!r}")
    wait_for_path(driver, then)


def _left(element: WebElement) -> Callable[[Any], bool]:
    """The page holding `element` is gone. Chromium reports a node of an unloaded document as
    stale, or, when the check lands mid-navigation, as an inspector error: both mean gone."""

    def gone(_driver: Any) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:  # StaleElementReferenceException included
            return True
        return False

    return gone


def main_text(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text)


def notice(driver: webdriver.Chrome) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, "main [role=status]")
    return str(found[0].text) if found else ""


def sign_in(
    driver: webdriver.Chrome, stack: HostedStack, email: str, password: str = STRONG_PASSWORD, then: str = "/ui/account"
) -> None:
    """The sign-in form, filled and sent; waits for the page at `then`."""
    driver.get(stack.url("/ui/login"))
    fill(driver, email=email, password=password)
    press(driver, "Sign in", then)


def on_account_page(driver: webdriver.Chrome, stack: HostedStack, check: PageCheck, email: str, step: str) -> None:
    """The browser shows `email`'s account page, and its cookies are that account's session."""
    wait_for_path(driver, "/ui/account")
    check(driver, step)
    assert email in main_text(driver)
    assert stack.whoami(driver) == email


def eventually(predicate: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.05)
