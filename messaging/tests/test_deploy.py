"""deploy/template.yaml: the same table as schema.py, a stream mapping that cannot lose
or loop on records, least-privilege IAM, cfn-lint clean, and a Lambda bundle that runs
without Django."""

import ast
import dataclasses
import json
import re
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


def test_filter_passes_new_and_changed_messages_only(mapping):
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]

    def record(event_name, pk):
        return {"eventName": event_name, "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "x"}}}}

    assert matches(pattern, record("INSERT", "MSG#5b0c7c8e-3d5f-4c1e-9d8e-6a1f2c3b4d5e"))
    # An edit or deletion of a message: the previews follow it.
    assert matches(pattern, record("MODIFY", "MSG#5b0c7c8e-3d5f-4c1e-9d8e-6a1f2c3b4d5e"))
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


# --- the web task role against the code -------------------------------------------------
#
# The DynamoDB operations a web request can issue are derived from the source with `ast`:
# every gateway method that request-path code names on a table-like receiver
# (`messaging_table()`, `table_admin()`, a variable or attribute called `...table`), then
# every method those call on `self`, then every `self.client.<operation>(...)`, paginator
# and waiter inside them, and the parts (Put, Update, Delete, ConditionCheck) of the
# transactions they build.
#
# Request-path code is every module of the web app that is not operator or stream code.
# The request path's gateway class is MessagingTable; operators' TableAdmin and the
# seeding BulkLoader live in modules of their own, listed with the operator code.

GATEWAY_PACKAGE = "messaging/dynamo"
GATEWAY_CLASSES = {
    "messaging/dynamo/table.py": "MessagingTable",
    "messaging/dynamo/people.py": "PersonData",
}
WEB_APPS = ["accounts", "cruddur", "health", "messaging"]
# Run by an operator (manage.py commands, seeding) or by the stream consumers (the
# Lambda, `ddb_stream`), never by a web request.
OPERATOR_MODULES = [
    "messaging/management",
    "messaging/seeding.py",
    "messaging/dynamo/admin.py",
    "messaging/dynamo/bulk.py",
]
STREAM_MODULES = [
    "messaging/stream",
    "messaging/dynamo/stream_reader.py",
]
STREAM_READERS = {"streams.py", "stream_reader.py", "poller.py"}
# TransactWriteItems has no IAM action of its own: each part needs its item action.
TRANSACTION_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
TRANSACTION_OPERATIONS = {"TransactWriteItems", "TransactGetItems"}


def _is_under(path: Path, prefixes: list[str]) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return any(relative == prefix or relative.startswith(f"{prefix}/") for prefix in prefixes)


def _modules(prefixes: list[str]) -> list[Path]:
    return [
        path
        for app in prefixes
        for path in sorted((ROOT / app).rglob("*.py"))
        if "tests" not in path.relative_to(ROOT).parts
        and "migrations" not in path.relative_to(ROOT).parts
    ]


@dataclasses.dataclass
class Gateway:
    """The gateway's classes, parsed: the request classes' methods by name, and the
    helper classes beside them (a transaction builder, a bulk loader, ...)."""

    methods: dict[str, list[ast.FunctionDef]]
    helpers: dict[str, dict[str, list[ast.FunctionDef]]]

    def everything(self) -> list[ast.FunctionDef]:
        groups = [self.methods, *self.helpers.values()]
        return [
            function for group in groups for functions in group.values() for function in functions
        ]


def _class_methods(node: ast.ClassDef) -> dict[str, list[ast.FunctionDef]]:
    methods: dict[str, list[ast.FunctionDef]] = {}
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            methods.setdefault(item.name, []).append(item)
    return methods


def _gateway() -> Gateway:
    methods: dict[str, list[ast.FunctionDef]] = {}
    helpers: dict[str, dict[str, list[ast.FunctionDef]]] = {}
    for module in sorted((ROOT / GATEWAY_PACKAGE).glob("*.py")):
        relative = module.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            if GATEWAY_CLASSES.get(relative) == node.name:
                for name, functions in _class_methods(node).items():
                    methods.setdefault(name, []).extend(functions)
            else:
                helpers[node.name] = _class_methods(node)
    assert methods, f"none of {GATEWAY_CLASSES} found"
    return Gateway(methods, helpers)


def _names_a_table(node: ast.expr) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return "table" in node.func.id
    if isinstance(node, ast.Name):
        return node.id.endswith("table")
    if isinstance(node, ast.Attribute):
        return node.attr.endswith("table")
    return False


def _entry_methods(modules: list[Path], gateway: Gateway) -> set[str]:
    entries = set()
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in gateway.methods
                and _names_a_table(node.value)
            ):
                entries.add(node.attr)
    return entries


def _reachable(entries: set[str], gateway: Gateway) -> list[ast.FunctionDef]:
    """The entry methods and everything they call: methods on `self`, and methods of
    helper classes they construct."""
    pending = [("", name) for name in entries]
    seen: set[tuple[str, str]] = set()
    reached = []
    while pending:
        owner, name = pending.pop()
        if (owner, name) in seen:
            continue
        seen.add((owner, name))
        own = gateway.helpers[owner] if owner else gateway.methods
        for function in own.get(name, []):
            reached.append(function)
            nodes = list(ast.walk(function))
            built = {
                node.func.id
                for node in nodes
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in gateway.helpers
            }
            for node in nodes:
                if not isinstance(node, ast.Attribute):
                    continue
                if (
                    isinstance(node.value, ast.Name)
                    and node.value.id == "self"
                    and node.attr in own
                ):
                    pending.append((owner, node.attr))
                pending.extend(
                    (helper, node.attr) for helper in built if node.attr in gateway.helpers[helper]
                )
    return reached


@pytest.fixture(scope="module")
def dynamodb_model():
    import boto3

    return boto3.session.Session().client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="unused",
        aws_secret_access_key="unused",
    )


def _is_client(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "client") or (
        isinstance(node, ast.Name) and node.id == "client"
    )


def _operations(functions: list[ast.FunctionDef], client) -> set[str]:
    """IAM actions for the DynamoDB calls inside these functions."""
    api_names = client.meta.method_to_api_mapping
    operations, parts = set(), set()
    for node in (node for function in functions for node in ast.walk(function)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if _is_client(node.func.value) and node.func.attr in api_names:
                operations.add(api_names[node.func.attr])
            elif _is_client(node.func.value) and node.func.attr == "get_paginator":
                operations.add(api_names[node.args[0].value])
            elif _is_client(node.func.value) and node.func.attr == "get_waiter":
                operations.add(client.get_waiter(node.args[0].value).config.operation)
        # A transaction part is named as a dict key ({"Put": ...}) or handed to a
        # builder as a string (_add(name, "Put", ...)).
        constants = []
        if isinstance(node, ast.Dict):
            constants = node.keys
        elif isinstance(node, ast.Call):
            constants = node.args
        parts.update(
            TRANSACTION_PARTS[constant.value]
            for constant in constants
            if isinstance(constant, ast.Constant) and constant.value in TRANSACTION_PARTS
        )
    if operations & TRANSACTION_OPERATIONS:
        operations |= parts
    return {f"dynamodb:{operation}" for operation in operations - TRANSACTION_OPERATIONS}


def _web_modules() -> list[Path]:
    return [
        path
        for path in _modules(WEB_APPS)
        if not _is_under(path, [GATEWAY_PACKAGE, *OPERATOR_MODULES, *STREAM_MODULES])
    ]


def _web_role_statements(template) -> list[dict]:
    role = template["Resources"]["WebTaskRole"]["Properties"]
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_web_role_names_exactly_the_dynamodb_actions_request_code_issues(template, dynamodb_model):
    gateway = _gateway()
    entries = _entry_methods(_web_modules(), gateway)
    issued = _operations(_reachable(entries, gateway), dynamodb_model)

    granted = {
        action
        for statement in _web_role_statements(template)
        for action in statement["Action"]
        if action.startswith("dynamodb:")
    }

    assert {"inbox_page", "message_send", "status"} <= entries
    assert granted == issued


def test_operator_only_operations_stay_out_of_the_web_role(template, dynamodb_model):
    gateway = _gateway()
    web = _reachable(_entry_methods(_web_modules(), gateway), gateway)
    everything = _operations(gateway.everything(), dynamodb_model)
    operator_only = everything - _operations(web, dynamodb_model)
    granted = {a for s in _web_role_statements(template) for a in s["Action"]}

    # The derivation must see the operator calls, or this test proves nothing.
    assert {"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:Scan"} <= operator_only
    assert {"dynamodb:BatchWriteItem", "dynamodb:ListTables"} <= operator_only
    assert not granted & operator_only
    assert not any("*" in action for action in granted)


def test_derived_actions_are_real_iam_actions(dynamodb_model):
    from cfnlint.data import AdditionalSpecs
    from cfnlint.helpers import load_resource

    known = {
        f"dynamodb:{name}".lower()
        for name in load_resource(AdditionalSpecs, "Policies.json")["dynamodb"]["Actions"]
    }
    derived = _operations(_gateway().everything(), dynamodb_model)

    assert {action.lower() for action in derived} <= known


def test_web_role_queries_every_index_by_its_arn(template):
    statements = _web_role_statements(template)
    index_names = [
        index["IndexName"] for index in schema.table_definition("any")["GlobalSecondaryIndexes"]
    ]
    index_resources = [
        resource
        for statement in statements
        if "dynamodb:Query" in statement["Action"]
        and "/index/" in json.dumps(statement["Resource"])
        for resource in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
    ]

    assert index_resources == [
        {"Fn::Sub": f"${{MessagesTable.Arn}}/index/{name}"} for name in index_names
    ]
    for statement in statements:
        if any(action.startswith("dynamodb:") for action in statement["Action"]):
            assert _references(statement["Resource"]) == {"MessagesTable"}


def test_function_role_names_exactly_what_the_stream_consumer_issues(template, dynamodb_model):
    gateway = _gateway()
    stream_modules = [path for path in _modules(WEB_APPS) if _is_under(path, STREAM_MODULES)]
    # The local worker's stream reading (`ddb_stream`) is not the Lambda's: the event
    # source mapping reads the stream for it.
    table_calls = _entry_methods(
        [path for path in stream_modules if path.name not in STREAM_READERS], gateway
    )
    issued = _operations(_reachable(table_calls, gateway), dynamodb_model)
    policies = template["Resources"]["StreamFanoutFunction"]["Properties"]["Policies"]
    granted = {
        action
        for policy in policies
        if isinstance(policy, dict)
        for statement in policy["Statement"]
        if _references(statement["Resource"]) == {"MessagesTable"}
        and "StreamArn" not in json.dumps(statement["Resource"])
        and "/stream/" not in json.dumps(statement["Resource"])
        for action in statement["Action"]
    }

    assert granted == issued


# --- the web tier, data stores and alarms ------------------------------------------------


def _resources(template, kind: str) -> dict:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def test_web_service_runs_two_or_more_tasks_in_private_subnets(template):
    service = template["Resources"]["WebService"]["Properties"]
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]

    assert template["Parameters"]["WebTaskCount"]["MinValue"] >= 2
    assert service["DesiredCount"] == {"Ref": "WebTaskCount"}
    assert network["AssignPublicIp"] == "DISABLED"
    assert network["Subnets"] == [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
    zones = {
        json.dumps(template["Resources"][subnet["Ref"]]["Properties"]["AvailabilityZone"])
        for subnet in network["Subnets"]
    }
    assert len(zones) == 2
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"]["Rollback"] is True


def test_load_balancer_serves_https_and_checks_readiness(template):
    listener = template["Resources"]["HttpsListener"]["Properties"]
    target_group = template["Resources"]["WebTargetGroup"]["Properties"]

    assert listener["Protocol"] == "HTTPS"
    assert listener["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert target_group["HealthCheckPath"] == "/readyz"
    redirect = template["Resources"]["HttpRedirectListener"]["Properties"]["DefaultActions"]
    assert redirect[0]["RedirectConfig"]["Protocol"] == "HTTPS"


def test_idle_timeouts_outlast_the_event_stream_heartbeat(template):
    heartbeat_seconds = 15
    attributes = {
        a["Key"]: a["Value"]
        for a in template["Resources"]["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]
    }
    idle = int(attributes["idle_timeout.timeout_seconds"])
    gunicorn_config = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    keepalive = int(re.search(r'"KEEPALIVE", "(\d+)"', gunicorn_config).group(1))
    graceful = int(re.search(r'"GRACEFUL_TIMEOUT", "(\d+)"', gunicorn_config).group(1))
    container = template["Resources"]["WebTaskDefinition"]["Properties"]["ContainerDefinitions"][0]

    assert idle > heartbeat_seconds
    # The balancer closes idle connections first, never the app (which would be a 502).
    assert keepalive > idle
    # ECS's SIGKILL comes only after gunicorn's drain.
    assert container["StopTimeout"] > graceful


def test_autoscaling_tracks_cpu_and_requests_per_task(template):
    metrics = {
        policy["Properties"]["TargetTrackingScalingPolicyConfiguration"][
            "PredefinedMetricSpecification"
        ]["PredefinedMetricType"]
        for policy in _resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }

    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}


def test_migration_task_runs_migrate_with_the_web_environment(template):
    (migrate,) = template["Resources"]["MigrationTaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ]
    (web,) = template["Resources"]["WebTaskDefinition"]["Properties"]["ContainerDefinitions"]

    assert migrate["Command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["Environment"] == web["Environment"]
    assert migrate["Secrets"] == web["Secrets"]


def test_every_variable_the_task_sets_is_one_the_app_reads(template):
    (web,) = template["Resources"]["WebTaskDefinition"]["Properties"]["ContainerDefinitions"]
    readers = "".join(
        (ROOT / path).read_text() for path in ("cruddur/settings.py", "deploy/gunicorn.conf.py")
    )
    names = [entry["Name"] for entry in web["Environment"] + web["Secrets"]]

    assert [name for name in names if f'"{name}"' not in readers] == []


def test_no_access_keys_and_secrets_only_from_secrets_manager(template):
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    (web,) = template["Resources"]["WebTaskDefinition"]["Properties"]["ContainerDefinitions"]
    plain = {entry["Name"] for entry in web["Environment"]}

    assert not kinds & {"AWS::IAM::AccessKey", "AWS::IAM::User"}
    assert "AWS_ACCESS_KEY_ID" not in json.dumps(template)
    assert not plain & {"DJANGO_SECRET_KEY", "DATABASE_PASSWORD"}
    assert {entry["Name"] for entry in web["Secrets"]} == {
        "DJANGO_SECRET_KEY",
        "DATABASE_PASSWORD",
    }
    (database_url,) = [
        e["Value"]["Fn::Sub"] for e in web["Environment"] if e["Name"] == "DATABASE_URL"
    ]
    user_part = database_url.split("://", 1)[1].split("@", 1)[0]
    assert ":" not in user_part


def test_data_stores_are_private_and_encrypted(template):
    database = template["Resources"]["Database"]["Properties"]
    cache = template["Resources"]["Cache"]["Properties"]
    bucket = template["Resources"]["AvatarBucket"]["Properties"]

    assert database["PubliclyAccessible"] is False
    assert database["StorageEncrypted"] is True
    assert "resolve:secretsmanager" in json.dumps(database["MasterUserPassword"])
    assert cache["Engine"] in {"valkey", "redis"}
    assert cache["TransitEncryptionEnabled"] is True
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    (cors,) = bucket["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == [{"Fn::Sub": "https://${DomainName}"}]


def test_the_vpc_has_dynamodb_and_s3_gateway_endpoints(template):
    endpoints = _resources(template, "AWS::EC2::VPCEndpoint").values()

    assert {
        endpoint["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1]
        for endpoint in endpoints
        if endpoint["Properties"]["VpcEndpointType"] == "Gateway"
    } == {"dynamodb", "s3"}


def _alarm_metrics(alarm: dict) -> set[tuple[str, str]]:
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return {(properties["Namespace"], properties["MetricName"])}
    return {
        (query["MetricStat"]["Metric"]["Namespace"], query["MetricStat"]["Metric"]["MetricName"])
        for query in properties["Metrics"]
        if "MetricStat" in query
    }


def test_alarms_watch_the_stream_the_queue_throttles_and_the_load_balancer(template):
    alarms = _resources(template, "AWS::CloudWatch::Alarm").values()
    watched = set().union(*(_alarm_metrics(alarm) for alarm in alarms))

    assert {
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
    } <= watched
    assert all(alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for alarm in alarms)


def test_outputs_give_every_app_variable_the_stack_creates(template):
    descriptions = " ".join(
        output.get("Description", "") for output in template["Outputs"].values()
    )

    for variable in (
        "MESSAGING_TABLE",
        "REDIS_URL",
        "DATABASE_URL",
        "DJANGO_SECRET_KEY",
        "COGNITO_USER_POOL_ID",
        "COGNITO_APP_CLIENT_ID",
        "AWS_STORAGE_BUCKET_NAME",
        "CACHE_KEY_PREFIX",
    ):
        assert variable in descriptions
