"""A client of the emulator's admin API (`/_imageshare/...`, JSON), standard library only.

The routes and their schemas are documented in README.md ("The emulator's admin API");
crates/imageshare-emulator/src/admin.rs serves them.
"""

import json
import ssl
import urllib.error
import urllib.request
from typing import Any, Dict, Iterable, List, Optional
from urllib.parse import urlencode

PREFIX = "/_imageshare"


class AdminError(Exception):
    """The admin API refused a request (HTTP 4xx, with its `{"error": ...}` message)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Admin:
    """Calls the admin API of the emulator at `base_url`."""

    def __init__(self, base_url: str, ssl_context: Optional[ssl.SSLContext] = None,
                 timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self._ssl = ssl_context
        self._timeout = timeout

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                content_type: str = "application/json") -> Any:
        """One admin request; the decoded JSON answer, or AdminError."""
        req = urllib.request.Request(self.base_url + PREFIX + path, data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=self._timeout, context=self._ssl) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                message = json.loads(raw).get("error", raw)
            except ValueError:
                message = raw
            raise AdminError(e.code, message) from None

    def health(self) -> Dict[str, Any]:
        """`GET /_imageshare/health`."""
        return self.request("GET", "/health")

    def state(self) -> Dict[str, Any]:
        """`GET /_imageshare/state`: `{"accounts": [...], "images": [...]}`."""
        return self.request("GET", "/state")

    def calls(self, provider: Optional[str] = None, action: Optional[str] = None) -> List[Dict[str, Any]]:
        """`GET /_imageshare/calls`: the call log in arrival order, optionally filtered."""
        query = {k: v for k, v in (("provider", provider), ("action", action)) if v}
        path = "/calls" + ("?" + urlencode(query) if query else "")
        return self.request("GET", path)["calls"]

    def faults(self) -> Dict[str, Any]:
        """`GET /_imageshare/faults`: `{"plan": {...}, "served": [...]}`."""
        return self.request("GET", "/faults")

    def set_faults(self, rules: Iterable[Dict[str, Any]] = (), seed: Optional[int] = None) -> Dict[str, Any]:
        """`PUT /_imageshare/faults`: replaces the fault plan (no rules: no faults)."""
        plan: Dict[str, Any] = {"rules": list(rules)}
        if seed is not None:
            plan["seed"] = seed
        return self.request("PUT", "/faults", json.dumps(plan).encode("utf-8"))

    def reset(self) -> Dict[str, Any]:
        """`POST /_imageshare/reset`: back to the loaded world; logs emptied."""
        return self.request("POST", "/reset", b"")

    def load_world(self, toml_text: str) -> Dict[str, Any]:
        """`PUT /_imageshare/world`: a new world, which `reset` then returns to."""
        return self.request("PUT", "/world", toml_text.encode("utf-8"), "application/toml")
