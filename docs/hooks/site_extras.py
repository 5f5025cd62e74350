"""mkdocs hook: the installed version in every page's footer, and a 404 page that works
opened from disk.

Without ``site_url`` (the project has no public address yet) mkdocs renders ``404.html``
with root-absolute links (``/assets/...``, ``/index.html``), which lead nowhere from a
``file://`` copy; the page lies at the site's root, so the same links made relative work.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_ROOT_LINK = re.compile(r"""((?:href|src)=["'])/(?!/)""")
# Material's search and navigation read the site's root from this JSON.
_BASE = '"base": "/"'


def on_config(config: Any, **_: Any) -> Any:
    from voipstudio_async import __version__

    config.copyright = f"voipstudio-async {__version__}"
    return config


def on_post_build(config: Any, **_: Any) -> None:
    page = Path(config.site_dir) / "404.html"
    if page.exists():
        text = _ROOT_LINK.sub(r"\1", page.read_text(encoding="utf-8"))
        page.write_text(text.replace(_BASE, '"base": "."'), encoding="utf-8")
