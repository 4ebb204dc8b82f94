"""README's Configuration tables against the settings classes: no setting missing, none invented."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from alerting.settings import AlertingSettings
from metrics_ai.settings import ENV_PREFIX, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def bare_names(model: type[BaseSettings]) -> dict[str, str]:
    """Field name -> the bare environment name it is read from (``HORIZON_MIN``), its first if several."""
    out = {}
    for field, info in model.model_fields.items():
        alias = info.validation_alias
        assert isinstance(alias, AliasChoices), f"{model.__name__}.{field} has no environment alias"
        bare = [c for c in alias.choices if isinstance(c, str) and c.isupper() and not c.startswith(ENV_PREFIX)]
        assert bare, (field, alias.choices)
        out[field] = bare[0]  # the setting's own name; later ones are fallbacks (APPROVER: USER, LOGNAME)
    return out


def configuration_rows(text: str) -> list[list[str]]:
    """The setting names of each table row in README's ``## Configuration`` section."""
    section = re.search(r"^## Configuration\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has no '## Configuration' section"
    rows = []
    for line in section.group(1).splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        rows.append(re.findall(r"`([A-Z][A-Z0-9_]*)`", first))
    return rows


def test_every_setting_has_a_row_and_every_row_names_settings() -> None:
    rows = configuration_rows(README.read_text(encoding="utf-8"))
    documented = [name for row in rows for name in row]
    known = {*bare_names(Settings).values(), *bare_names(AlertingSettings).values()}
    missing = sorted(known - set(documented))
    assert not missing, f"settings missing from README's Configuration tables: {missing}"
    invented = sorted(set(documented) - known)
    assert not invented, f"README's Configuration tables name settings that do not exist: {invented}"
    twice = sorted({n for n in documented if documented.count(n) > 1})
    assert not twice, f"settings listed more than once: {twice}"
    assert all(rows), "a Configuration row names no setting in its first column"


def test_the_check_reads_the_tables() -> None:
    """The parser finds names in a row and ignores prose: a table it cannot read would pass vacuously."""
    text = "## Configuration\n\n| name | default |\n|---|---|\n| `STEP`, `SEED` | 60 |\nsee `NOT_A_ROW`\n## Next\n"
    assert configuration_rows(text) == [["STEP", "SEED"]]
