"""What every HTML page of the release shares: one Jinja2 environment (autoescaped — submitted text is
untrusted) and one Content-Security-Policy, so review.html, self_evaluation.html and library.html stay
offline by the same rule: nothing may be fetched; only the library page runs a script, allowed by its hash."""

from __future__ import annotations

import base64
import hashlib

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

_CSP = (
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
)


def content_security_policy(script: str | None = None) -> str:
    """The pages' policy; with `script`, that one inline script (by its sha256) may run."""
    parts = list(_CSP)
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        parts.insert(1, f"script-src 'sha256-{digest}'")
    return "; ".join(parts)


def page_environment(package: str = "pipelines.report", folder: str = "templates") -> Environment:
    """Templates of `package/folder`, every value escaped unless it is Markup; `csp` is the script-less
    policy (a page with a script passes its own)."""
    env = Environment(
        loader=PackageLoader(package, folder),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["csp"] = Markup(content_security_policy())  # our constant: its quotes stay quotes
    return env
