"""`make package` and the template it builds: cfn-lint clean, the SAM transform resolves, and
every function gets the environment the code needs on AWS."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_BIN = ROOT / ".venv-deploy" / "bin"

# What only the deployed stack can tell a function: names and URLs of its own resources.
SET_BY_THE_STACK = {"SWITCHBOARD_STACK", "SWITCHBOARD_EXPORT_BUCKET", "SWITCHBOARD_WS_URL",
                    "SWITCHBOARD_WS_MANAGEMENT_ENDPOINT", "SWITCHBOARD_PUBLIC_URL", "SWITCHBOARD_MAIL_FROM",
                    "SWITCHBOARD_LOG_LEVEL"}
# Tunables whose defaults are the production values (docs/deploy.md lists them).
TUNABLES = {"SWITCHBOARD_AGENT_TOKEN_TTL", "SWITCHBOARD_VISITOR_TOKEN_TTL", "SWITCHBOARD_SIGNUP_LIMIT_PER_HOUR",
            "SWITCHBOARD_LOGIN_LIMIT_PER_MINUTE", "SWITCHBOARD_MAX_BODY_BYTES", "SWITCHBOARD_SURVEY_EVERY_MINUTES"}
FUNCTIONS = {"APIHandler", "WebsocketConnect", "WebsocketMessage", "WebsocketDisconnect", "RerouteStale",
             "Retention", "SendSurveys", "AuditVerify", "AuditExport"}


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    if not (DEPLOY_BIN / "cfn-lint").exists():
        pytest.fail(".venv-deploy is missing: `make test` builds it")
    build = tmp_path_factory.mktemp("build")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    result = subprocess.run(["make", "-s", "package", "STAGE=prod", f"BUILD={build}", f"BIN={Path(sys.executable).parent}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return build


@pytest.fixture(scope="module")
def resources(build: Path) -> dict:
    result = subprocess.run([DEPLOY_BIN / "python", ROOT / "tests" / "deploy" / "sam_transform.py",
                             build / "sam.yaml", "Stage=prod"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["Resources"]


def functions(resources: dict) -> dict[str, dict]:
    return {name: resource["Properties"] for name, resource in resources.items()
            if resource["Type"] == "AWS::Lambda::Function"}


def test_cfn_lint_finds_nothing_in_the_merged_template(build: Path):
    result = subprocess.run([DEPLOY_BIN / "cfn-lint", build / "sam.yaml"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (build / "deployment.zip").stat().st_size > 1_000_000


def test_the_sam_transform_resolves_into_every_function_and_both_apis(resources: dict):
    assert set(functions(resources)) == FUNCTIONS
    types = {resource["Type"] for resource in resources.values()}
    assert {"AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", "AWS::DynamoDB::Table", "AWS::KMS::Key",
            "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Events::Rule"} <= types


def test_every_environment_variable_the_code_reads_is_accounted_for():
    sources = [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]
    read = {name for path in sources for name in re.findall(r"SWITCHBOARD_[A-Z_]+", path.read_text())}
    assert read == SET_BY_THE_STACK | TUNABLES, "classify the new variable here and in docs/deploy.md"


def test_every_function_gets_what_only_the_stack_can_tell_it(resources: dict):
    for name, properties in functions(resources).items():
        variables = properties["Environment"]["Variables"]
        assert SET_BY_THE_STACK <= variables.keys(), name
        assert variables["SWITCHBOARD_STACK"] == {"Ref": "AWS::StackName"}  # the names infra/ derives
        assert variables["SWITCHBOARD_EXPORT_BUCKET"] == {"Ref": "ExportBucket"}


def test_the_export_function_reads_this_stacks_queue(resources: dict):
    (mapping,) = [resource["Properties"] for resource in resources.values()
                  if resource["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mapping["FunctionName"] == {"Ref": "AuditExport"}
    assert mapping["EventSourceArn"] == {"Fn::Sub": "${AuditExportQueue.Arn}"}
