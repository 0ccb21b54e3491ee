"""Every GRASSROOTS_* environment variable the configuration reads is documented for operators.

An operator learns the settings from docs/operations.md ("Production profile"), not from the
code: a variable read by config/settings.py or config/gunicorn.conf.py and missing there is a
setting nobody will know to set.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "config" / "settings.py", ROOT / "config" / "gunicorn.conf.py"]
DOCS = ROOT / "docs" / "operations.md"
# os.environ.get("GRASSROOTS_X", …), os.environ["GRASSROOTS_X"], os.getenv("GRASSROOTS_X")
READ = re.compile(r"""os\.(?:environ\.get\(|environ\[|getenv\()\s*["'](GRASSROOTS_[A-Z0-9_]+)["']""")


def names_read() -> set[str]:
    return {name for path in SOURCES if path.exists() for name in READ.findall(path.read_text(encoding="utf-8"))}


def test_the_pattern_finds_the_settings() -> None:
    # Guard against a pattern that silently matches nothing (and so passes on anything).
    names = names_read()
    assert {"GRASSROOTS_SECRET_KEY", "GRASSROOTS_CACHE_URL", "GRASSROOTS_WEB_WORKERS"} <= names
    assert READ.findall('x = os.environ.get("GRASSROOTS_NEW_THING", "1")') == ["GRASSROOTS_NEW_THING"]


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"\bGRASSROOTS_[A-Z0-9_]+\b", DOCS.read_text(encoding="utf-8")))
    missing = sorted(names_read() - documented)
    assert not missing, f"add these to docs/operations.md, 'Production profile': {', '.join(missing)}"
