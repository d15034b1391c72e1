"""deploy/template.yaml: the same table as schema.py, a stream mapping that cannot lose
or loop on records, least-privilege IAM, cfn-lint clean, and a Lambda bundle that runs
without Django."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

from messaging.dynamo import schema

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "deploy" / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict:
    return json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE_PATH))))


@pytest.fixture(scope="module")
def mapping(template) -> dict:
    events = template["Resources"]["StreamFanoutFunction"]["Properties"]["Events"]
    return events["MessageInserts"]["Properties"]


def as_cloudformation(definition: dict) -> dict:
    """schema.table_definition in CloudFormation's spelling."""
    properties = {
        key: value
        for key, value in definition.items()
        if key not in {"TableName", "StreamSpecification"}
    }
    stream = definition["StreamSpecification"]
    assert stream["StreamEnabled"]
    properties["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
    ttl = schema.ttl_specification()["TimeToLiveSpecification"]
    properties["TimeToLiveSpecification"] = {
        "AttributeName": ttl["AttributeName"],
        "Enabled": ttl["Enabled"],
    }
    return properties


def test_template_table_matches_the_schema_module(template):
    table = template["Resources"]["MessagesTable"]
    properties = dict(table["Properties"])
    assert properties.pop("TableName") == {"Ref": "TableName"}
    assert template["Parameters"]["TableName"]["Default"] == "cruddur-messages"
    for production_only in ("PointInTimeRecoverySpecification", "SSESpecification"):
        properties.pop(production_only)

    assert properties == as_cloudformation(schema.table_definition("any"))
    assert table["DeletionPolicy"] == "Retain"


def test_template_passes_cfn_lint():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    completed = subprocess.run(
        [str(cfn_lint), str(TEMPLATE_PATH)], capture_output=True, text=True, cwd=ROOT
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_stream_mapping_retries_finitely_reports_items_and_keeps_failures(mapping, template):
    assert mapping["Stream"] == {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}
    assert isinstance(mapping["BatchSize"], int) and 1 <= mapping["BatchSize"] <= 1000
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    on_failure = mapping["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    queue = on_failure["Destination"]["Fn::GetAtt"][0]
    assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"


def matches(pattern: dict, event: dict) -> bool:
    """Lambda event filtering, for the two rule kinds the template uses: a list of
    exact values, and {"prefix": ...}."""
    for name, rule in pattern.items():
        if name not in event:
            return False
        if isinstance(rule, dict):
            if not isinstance(event[name], dict) or not matches(rule, event[name]):
                return False
            continue
        value = event[name]
        if not any(
            (isinstance(option, dict) and str(value).startswith(option["prefix"]))
            or option == value
            for option in rule
        ):
            return False
    return True


def test_filter_passes_new_messages_only(mapping):
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]

    def record(event_name, pk):
        return {"eventName": event_name, "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "x"}}}}

    assert matches(pattern, record("INSERT", "MSG#5b0c7c8e-3d5f-4c1e-9d8e-6a1f2c3b4d5e"))
    # The fan-out's own inbox-row updates must not wake it again.
    assert not matches(pattern, record("MODIFY", "GRP#5b0c7c8e-3d5f-4c1e-9d8e-6a1f2c3b4d5e"))
    assert not matches(pattern, record("INSERT", "GRP#5b0c7c8e-3d5f-4c1e-9d8e-6a1f2c3b4d5e"))
    assert not matches(pattern, record("INSERT", "IDEM#someone"))
    assert not matches(pattern, record("REMOVE", "MSG#5b0c7c8e-3d5f-4c1e-9d8e-6a1f2c3b4d5e"))


def _references(value) -> set[str]:
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            return {part.split(".")[0] for part in text.split("${")[1:]}
        return set().union(*(_references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return {value}


def test_function_may_touch_only_the_table_and_its_stream(template):
    policies = template["Resources"]["StreamFanoutFunction"]["Properties"]["Policies"]
    statements = [s for policy in policies if "Statement" in policy for s in policy["Statement"]]
    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert all(action.startswith("dynamodb:") for action in statement["Action"])
        assert "*" not in json.dumps(statement["Action"])
        assert _references(statement["Resource"]) == {"MessagesTable"}
    actions = {action for statement in statements for action in statement["Action"]}
    assert actions == {
        "dynamodb:UpdateItem",
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }


def test_function_bundle_imports_and_runs_without_django_or_the_project(tmp_path, template):
    handler = template["Resources"]["StreamFanoutFunction"]["Properties"]["Handler"]
    module, function = handler.rsplit(".", 1)
    bundle = tmp_path / "function"
    subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "build_function.py"), str(bundle)], check=True
    )
    code = (
        f"import sys, {module} as m\n"
        "assert not [n for n in sys.modules if n.split('.')[0] == 'django'], 'django'\n"
        f"assert m.{function}({{'Records': []}}, None) == {{'batchItemFailures': []}}\n"
    )
    completed = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, '.')\n{code}"],
        cwd=bundle,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    requirements = (bundle / "requirements.txt").read_text().split()
    assert [line.partition("==")[0] for line in requirements] == ["boto3", "redis"]
    assert all(line.partition("==")[2] for line in requirements)
