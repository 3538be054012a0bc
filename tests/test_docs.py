"""The documentation that is generated from the code is current (docs/build.py --check)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_generated_docs_are_current():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_document_describes_every_profile_field():
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    from perfeval_xlsx.rules.profile import PROFILE_DIR, tomllib

    def keys(data, prefix=""):
        for k, v in data.items():
            path = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict) and k not in ("level1", "synonyms"):
                yield from keys(v, path)
            else:
                yield path

    for profile in PROFILE_DIR.glob("*.toml"):
        with profile.open("rb") as fh:
            for key in keys(tomllib.load(fh)):
                assert f"`{key}`" in text, f"docs/rules.md does not describe {key} ({profile.name})"
