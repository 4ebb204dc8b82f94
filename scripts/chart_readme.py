"""Write the values tables of charts/metrics-ai/README.md from the `## @param` lines of values.yaml.

Each `## @section` becomes a heading and a table (name, description, default); defaults are
read from values.yaml itself. Only the text between the README's markers is replaced.

    python scripts/chart_readme.py           # rewrite the README's tables
    python scripts/chart_readme.py --check   # exit 1 when they are stale (tests/chart runs this)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[1] / "charts" / "metrics-ai"
START, END = "<!-- values:start (scripts/chart_readme.py) -->", "<!-- values:end -->"
_PARAM = re.compile(r"^\s*## @param (\S+) (.+)$")
_SECTION = re.compile(r"^\s*## @section (.+)$")


def default_of(values: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (model names contain dashes, never dots)."""
    node: Any = values
    for key in path.split("."):
        node = node[key]
    return node


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def shown(value: Any) -> str:
    """A default as compact JSON in a code span (`""` for an empty string)."""
    return f"`{cell(json.dumps(value, separators=(', ', ': ')))}`"


def tables(values_text: str) -> str:
    """The Markdown of every section's table, in values.yaml order."""
    values = yaml.safe_load(values_text)
    out: list[str] = []
    for line in values_text.splitlines():
        if section := _SECTION.match(line):
            out += ["", f"### {section.group(1).strip()}", "", "| Name | Description | Default |", "|---|---|---|"]
        elif param := _PARAM.match(line):
            path, text = param.groups()
            out.append(f"| `{path}` | {cell(text.strip())} | {shown(default_of(values, path))} |")
    return "\n".join(out).strip("\n")


def render(readme: str, values_text: str) -> str:
    """The README with the text between its markers replaced by fresh tables."""
    if START not in readme or END not in readme:
        raise SystemExit(f"README: the markers {START} and {END} are missing")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{tables(values_text)}\n{END}{tail}"


def main() -> None:
    """Rewrite the README's tables, or with --check report whether they are stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the README's tables are stale")
    parser.add_argument("--chart", type=Path, default=CHART)
    args = parser.parse_args()
    readme_path = args.chart / "README.md"
    current = readme_path.read_text(encoding="utf-8")
    fresh = render(current, (args.chart / "values.yaml").read_text(encoding="utf-8"))
    if args.check:
        if fresh != current:
            sys.exit(f"{readme_path}: the values tables are stale; run python scripts/chart_readme.py")
        return
    readme_path.write_text(fresh, encoding="utf-8")


if __name__ == "__main__":
    main()
