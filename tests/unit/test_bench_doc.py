"""docs/benchmarks.md writes no figure that the run did not give it.

The document is rendered from the results of a small real run (bench_results_sample.json: the
"sections" of a bench/results.json), then again from those results with every number replaced by
another; a number of the document that stays the same whatever the results is a literal of
bench/doc_text.py, a figure no run measured. Not checked: code spans (commit, dates, versions, settings
spelled as variables), link targets, the sections' numbering, the targets' bounds (the issue's) and
the few unit phrases below. After a change of what a section returns, refresh the sample from a
fresh bench/results.json (`"sections"`), from a run at small sizes.
"""
from __future__ import annotations

import copy
import difflib
import json
import random
import re
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).with_name("bench_results_sample.json")
DRAWS = 3
NUMBER = re.compile(r"(?<![\w.\-/#$])\$?\d[\d,]*(?:\.\d+)?(?![\w\-/])")
UNITS = ("per 1,000 conversations",)


def test_every_number_in_the_document_comes_from_the_results_it_is_rendered_from():
    literals = _literals(json.loads(SAMPLE.read_text()))
    assert not literals, "figures the results did not give:\n" + "\n".join(sorted(literals))


def test_the_document_names_the_sizes_the_run_used_and_what_it_ran_on():
    from bench.__main__ import SIZES

    sample = json.loads(SAMPLE.read_text())
    document = _document(sample)
    for name in SIZES:
        assert f"`{name}={','.join(map(str, sample['settings']['sizes'][name]))}`" in document
    for setting in ("git_commit", "python", "started_at"):
        assert f"`{sample['settings'][setting]}`" in document


def test_the_check_finds_a_figure_written_as_a_literal(monkeypatch):
    from bench import doc_text

    render = doc_text.render

    def with_a_literal(*args: Any) -> str:
        return render(*args) + "\nAt N = 1,000 the first conversations were 40 simulated minutes old.\n"

    monkeypatch.setattr(doc_text, "render", with_a_literal)
    monkeypatch.setattr("bench.report.render", with_a_literal)
    literals = _literals(json.loads(SAMPLE.read_text()))
    assert {line.rsplit(": ", 1)[1] for line in literals} == {"1,000", "40"}


def _literals(results: dict[str, Any]) -> set[str]:
    """The numbers of the document rendered from `results` that stay the same whatever the results."""
    written = _numbers_by_line(_document(results))
    draws = [_numbers_by_line(_document(_redrawn(results, random.Random(seed)))) for seed in range(DRAWS)]
    return set.intersection(*(_unchanged(written, drawn) for drawn in draws))


def _document(results: dict[str, Any]) -> str:
    from bench.report import _document, summary

    results = copy.deepcopy(results)
    return _document(results, summary(results))


def _redrawn(value: Any, rng: random.Random) -> Any:
    """Every number replaced by a random one (sizes used as keys by a larger one, keeping their order)."""
    if isinstance(value, bool) or not isinstance(value, int | float | dict | list):
        return value
    if isinstance(value, dict):
        return {(str(7 * int(key) + 3) if key.isdigit() else key): _redrawn(item, rng) for key, item in value.items()}
    if isinstance(value, list):
        return [_redrawn(item, rng) for item in value]
    if isinstance(value, int):
        return rng.randint(1, 10 * value + 10)
    return rng.uniform(0.5, 10 * value + 10)


def _numbers_by_line(document: str) -> list[tuple[str, list[str]]]:
    """Each line with its numbers masked, and its numbers (what the module docstring says is not checked left out)."""
    out, targets = [], False
    for line in document.splitlines():
        if line.startswith("#"):
            targets = line == "## Targets"
            line = re.sub(r"^(#+ )\d+\.", r"\1", line)
        line = re.sub(r"`[^`]*`", "`…`", re.sub(r"\]\([^)]*\)", "]()", line))
        if targets and line.startswith("|"):
            cells = line.split("|")
            line = "|".join(cells[:3] + ["…"] + cells[4:]) if len(cells) > 4 else line
        for unit in UNITS:
            line = line.replace(unit, "…")
        out.append((NUMBER.sub("#", line), NUMBER.findall(line)))
    return out


def _unchanged(written: list[tuple[str, list[str]]], drawn: list[tuple[str, list[str]]]) -> set[str]:
    """Numbers of `written` found again, at the same place, in `drawn` (lines matched by their words)."""
    same: set[str] = set()
    matcher = difflib.SequenceMatcher(None, [mask for mask, _ in written], [mask for mask, _ in drawn],
                                      autojunk=False)
    for _, low, high, drawn_low, drawn_high in matcher.get_opcodes():
        pairs = list(zip(written[low:high], drawn[drawn_low:drawn_high], strict=False))
        for (mask, numbers), (_, others) in pairs:
            if len(numbers) == len(others):
                same |= {f"{mask}: {number}" for number, other in zip(numbers, others, strict=True) if number == other}
            else:
                same |= {f"{mask}: {number}" for number in numbers if number in others}
        for mask, numbers in written[low + len(pairs):high]:  # lines the other document has no counterpart of
            same |= {f"{mask}: {number}" for number in numbers
                     if any(number in others for _, others in drawn[drawn_low:drawn_high])}
    return same
