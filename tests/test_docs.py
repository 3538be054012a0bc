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
    import importlib.util

    from perfeval_xlsx.rules.profile import PROFILE_DIR, tomllib

    spec = importlib.util.spec_from_file_location("docs_build", ROOT / "docs" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for profile in PROFILE_DIR.glob("*.toml"):
        with profile.open("rb") as fh:
            for key in build._flatten(tomllib.load(fh)):
                assert f"`{key}`" in text, f"docs/rules.md does not describe {key} ({profile.name})"
