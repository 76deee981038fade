"""Reading infra/template.yaml: CloudFormation YAML, short-form tags (!Ref, !Sub...) included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"

Template = dict[str, Any]


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form tags (!Ref, !Sub, !GetAtt...)."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "GetAtt" and isinstance(value, str):
        # "X.Attr.Sub" names resource X's attribute "Attr.Sub": split at the first dot only.
        value = value.split(".", 1)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    return {f"Fn::{tag_suffix}": value}


def _construct_timestamp_as_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # CloudFormation keeps an unquoted 2012-10-17 (policy Version) a string; YAML would make a date.
    return loader.construct_scalar(node)


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_string)


def load_template(path: Path = DEFAULT_TEMPLATE) -> Template:
    """Parse a CloudFormation YAML template, turning short-form tags into the long form."""
    with Path(path).open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_TemplateLoader)  # safe: _TemplateLoader is a SafeLoader
