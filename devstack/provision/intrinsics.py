"""CloudFormation's intrinsic functions, resolved as the template is applied.

Ref, Fn::GetAtt, Fn::Sub, Fn::If and Fn::Join against the pseudo parameters, the parameters and
the resources provisioned so far; Conditions with Fn::Equals, Fn::Not, Fn::And and Fn::Or; and
references(), which finds what a value depends on so resources are created in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .template import Template

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_NO_VALUE = object()  # what Ref AWS::NoValue resolves to: the enclosing property is dropped


def _sub_names(template_string: str) -> Iterator[str]:
    """The names a Fn::Sub string refers to, without the ${!Literal} escapes."""
    for match in _SUB_PLACEHOLDER.finditer(template_string):
        if not match.group(1).startswith("!"):
            yield match.group(1)


def _getatt_target(value: Any) -> tuple[str, str]:
    logical_id, attribute = value.split(".", 1) if isinstance(value, str) else value
    return logical_id, attribute


def _sub_arguments(argument: Any) -> tuple[str, dict[str, Any]]:
    return (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])


def references(value: Any) -> Iterator[str]:
    """Every name a value refers to through Ref, Fn::GetAtt or Fn::Sub (resources or not)."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, dict):
        if "Ref" in value:
            yield value["Ref"]
        elif "Fn::GetAtt" in value:
            yield _getatt_target(value["Fn::GetAtt"])[0]
        elif "Fn::Sub" in value:
            text, variables = _sub_arguments(value["Fn::Sub"])
            yield from (name.split(".", 1)[0] for name in _sub_names(text) if name not in variables)
            yield from references(list(variables.values()))
        else:
            yield from references(list(value.values()))


@dataclass(frozen=True)
class Resource:
    """A provisioned resource: what Ref returns and what Fn::GetAtt can ask for."""

    physical_id: str
    attributes: Mapping[str, str]


class Resolver:
    """Resolves intrinsic functions against pseudo parameters, parameters and resources so far."""

    def __init__(self, template: Template, pseudo_parameters: dict[str, str], parameters: dict[str, Any]):
        self._condition_definitions: dict[str, Any] = template.get("Conditions", {})
        self._condition_values: dict[str, bool] = {}
        self._names: dict[str, Any] = {**pseudo_parameters, "AWS::NoValue": _NO_VALUE, **parameters}
        self.resources: dict[str, Resource] = {}
        self.skipped: set[str] = set()

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def is_true(self, condition: str) -> bool:
        if condition not in self._condition_values:
            if condition not in self._condition_definitions:
                raise ValueError(f"unknown condition {condition}")
            self._condition_values[condition] = self._evaluate(self._condition_definitions[condition])
        return self._condition_values[condition]

    def _evaluate(self, expression: Any) -> bool:
        (function, argument), = expression.items()
        if function == "Condition":
            return self.is_true(argument)
        if function == "Fn::Equals":
            left, right = (self.resolve(operand) for operand in argument)
            return left == right
        if function == "Fn::Not":
            return not self._evaluate(argument[0])
        if function == "Fn::And":
            return all(self._evaluate(operand) for operand in argument)
        if function == "Fn::Or":
            return any(self._evaluate(operand) for operand in argument)
        raise ValueError(f"unsupported condition function {function}")

    def _function(self, function: str, argument: Any) -> Any:
        if function == "Fn::GetAtt":
            return self._getatt(*_getatt_target(argument))
        if function == "Fn::Sub":
            return self._sub(*_sub_arguments(argument))
        if function == "Fn::If":
            condition, if_true, if_false = argument
            return self.resolve(if_true if self.is_true(condition) else if_false)
        if function == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(str(item) for item in self.resolve(items))
        raise ValueError(f"unsupported intrinsic function {function}")

    def _ref(self, name: str) -> Any:
        if name in self._names:
            return self._names[name]
        return self._resource(name).physical_id

    def _getatt(self, logical_id: str, attribute: str) -> str:
        attributes = self._resource(logical_id).attributes
        if attribute not in attributes:
            raise ValueError(f"unsupported attribute {logical_id}.{attribute}")
        return attributes[attribute]

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        resolved_variables = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved_variables:
                return str(resolved_variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self._getatt(*_getatt_target(name))
            return str(self._ref(name))

        return _SUB_PLACEHOLDER.sub(substitute, text)

    def _resource(self, logical_id: str) -> Resource:
        if logical_id in self.skipped:
            raise ValueError(f"{logical_id} is referenced but its Condition is false")
        if logical_id not in self.resources:
            raise ValueError(f"unknown reference {logical_id}")
        return self.resources[logical_id]


def is_active(resolver: Resolver, resource_or_output: dict[str, Any]) -> bool:
    """False when the resource or output has a Condition that is false."""
    return "Condition" not in resource_or_output or resolver.is_true(resource_or_output["Condition"])
