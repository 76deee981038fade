"""The pynamodb models and infra/template.yaml must agree on every table's keys, indexes and TTL."""
from __future__ import annotations

import pytest
from pynamodb.attributes import Attribute, TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.storage.tables import ALL_MODELS
from devstack.provision import load_template

TEMPLATE = load_template()
TABLES = {props["Properties"]["TableName"]["Fn::Sub"].removeprefix("${AWS::StackName}-"): props["Properties"]
          for props in TEMPLATE["Resources"].values() if props.get("Type") == "AWS::DynamoDB::Table"}


def _suffix(model) -> str:
    return model.Meta.table_name.removeprefix("switchboard-test-")


def _keys(schema: list[dict]) -> dict[str, str]:
    return {key["AttributeName"]: key["KeyType"] for key in schema}


def _model_keys(attributes) -> dict[str, str]:
    keys = {}
    for name, attribute in attributes.items():
        if attribute.is_hash_key:
            keys[name] = "HASH"
        if attribute.is_range_key:
            keys[name] = "RANGE"
    return keys


def test_every_template_table_has_exactly_one_model():
    assert sorted(_suffix(model) for model in ALL_MODELS) == sorted(TABLES)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_keys_and_attribute_types_agree(model):
    props = TABLES[_suffix(model)]
    attributes = model.get_attributes()
    assert _model_keys(attributes) == _keys(props["KeySchema"])
    for definition in props["AttributeDefinitions"]:
        assert attributes[definition["AttributeName"]].attr_type == definition["AttributeType"]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_indexes_agree(model):
    props = TABLES[_suffix(model)]
    declared = {index["IndexName"]: index for index in props.get("GlobalSecondaryIndexes", [])}
    indexes = {value.Meta.index_name: value for value in vars(model).values()
               if isinstance(value, GlobalSecondaryIndex)}
    assert set(indexes) == set(declared)
    for name, index in indexes.items():
        index_attributes = {attr_name: attr for attr_name, attr in vars(type(index)).items()
                            if isinstance(attr, Attribute)}
        assert _model_keys(index_attributes) == _keys(declared[name]["KeySchema"])
        projection = declared[name]["Projection"]
        assert index.Meta.projection.projection_type == projection["ProjectionType"]
        assert sorted(index.Meta.projection.non_key_attributes or []) == sorted(projection.get("NonKeyAttributes", []))


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_ttl_attribute_agrees(model):
    props = TABLES[_suffix(model)]
    ttl = [name for name, attribute in model.get_attributes().items() if isinstance(attribute, TTLAttribute)]
    declared = props.get("TimeToLiveSpecification")
    assert ttl == ([declared["AttributeName"]] if declared and declared.get("Enabled") else [])
