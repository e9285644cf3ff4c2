"""SnapStart and clients at initialisation (`shared/lifecycle.py`).

With SnapStart, one snapshot of a function's initialised memory is restored into many execution
environments: anything random or unique made at import would be shared by all of them. So every
function is imported in a fresh process with every source of randomness watched, and nothing of
ours may draw from one.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from infra.local.template import ROOT, load
from shared import lifecycle, push
from shared.store import table
from tests.support.aws import Aws

FUNCTION_MODULES = sorted(f"functions.{p.parent.name}.app" for p in (ROOT / "functions").glob("*/app.py"))

# Run in a fresh interpreter: patch every source of randomness or uniqueness, import the given
# modules, print the calls our own code (functions/, shared/) made as JSON.
PROBE = textwrap.dedent(
    """
    import json, os, random, secrets, sys, traceback, uuid

    ROOTS = (os.path.join(sys.argv[1], "functions"), os.path.join(sys.argv[1], "shared"),
             os.path.join(sys.argv[1], "planted"))
    calls = []
    depth = [0]  # only the outermost watched call counts (token_hex calls token_bytes)

    def watch(owner, name):
        real = getattr(owner, name)
        def watched(*args, **kwargs):
            # Called by our own code (libraries' own draws at their import are theirs).
            caller = traceback.extract_stack()[-2]
            if depth[0] == 0 and caller.filename.startswith(ROOTS):
                calls.append({"call": name, "at": f"{caller.filename}:{caller.lineno}"})
            depth[0] += 1
            try:
                return real(*args, **kwargs)
            finally:
                depth[0] -= 1
        setattr(owner, name, watched)

    for name in ("urandom",):
        watch(os, name)
    for name in ("token_bytes", "token_hex", "token_urlsafe", "randbits", "choice", "randbelow"):
        watch(secrets, name)
    for name in ("uuid1", "uuid4"):
        watch(uuid, name)
    for name in ("random", "randint", "randrange", "choice", "uniform", "getrandbits", "seed", "shuffle"):
        watch(random, name)

    sys.path.insert(0, sys.argv[1])
    import importlib
    for module in sys.argv[2:]:
        importlib.import_module(module)
    print(json.dumps(calls))
    """
)


def _probe(modules: list[str], root: Path = ROOT) -> list[dict[str, str]]:
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TABLE_NAME": "career-journey-test",
        "POWERTOOLS_SERVICE_NAME": "career-journey",
        "POWERTOOLS_METRICS_NAMESPACE": "CareerJourney",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), *modules],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    calls: list[dict[str, str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return calls


def test_importing_any_function_makes_nothing_random_or_unique() -> None:
    """Every function's module, with the region set, so its clients are made as in Lambda."""
    assert len(FUNCTION_MODULES) == len(load().resources_of_type("AWS::Serverless::Function"))
    assert _probe(FUNCTION_MODULES) == []


def test_the_probe_sees_a_module_that_makes_a_token_at_import(tmp_path: Path) -> None:
    """The check above can fail: a planted module drawing a token at import is caught."""
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "__init__.py").write_text("")
    (planted / "ids.py").write_text("import secrets\nINSTANCE = secrets.token_hex(8)\n")
    calls = _probe(["planted.ids"], root=tmp_path)
    assert [c["call"] for c in calls] == ["token_hex"]
    assert calls[0]["at"].endswith("planted/ids.py:2")


def test_clients_every_invocation_needs_are_made_at_import() -> None:
    """In Lambda (region set) importing a function makes its DynamoDB client: `init()`."""
    script = (
        "import functions.notifier.app, functions.webhook_fanout.app\n"
        "from shared import push\nfrom shared.store import table, webhooks\n"
        "print(table._client is not None, push._client is not None, webhooks._sqs is not None)"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "t"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.stdout.split() == ["True", "True", "True"]


def test_after_a_restore_clients_are_made_again_and_random_is_reseeded(aws: Aws) -> None:
    lifecycle.init(sns=True)
    before = (table.dynamodb(), push.sns())
    random.seed(1234)
    snapshot_state = random.getstate()
    lifecycle.after_restore()
    assert table._client is not None
    assert table._client is not before[0], "a new DynamoDB client"
    assert push._client is not None
    assert push._client is not before[1], "a new SNS client"
    assert random.getstate() != snapshot_state


def test_the_restore_hook_is_registered_where_the_runtime_has_snapstart() -> None:
    """The runtime's `snapshot_restore_py` (only in Lambda): a stand-in records the hook."""
    script = textwrap.dedent(
        """
        import sys, types
        hooks = []
        fake = types.ModuleType("snapshot_restore_py")
        fake.register_after_restore = hooks.append
        fake.register_before_snapshot = lambda f: None
        sys.modules["snapshot_restore_py"] = fake
        from shared import lifecycle
        print(lifecycle.REGISTERED, hooks == [lifecycle.after_restore])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    assert done.stdout.split() == ["True", "True"]
    assert lifecycle.REGISTERED is False, "here (no SnapStart runtime) nothing is registered"


def test_snapstart_is_a_parameter_off_by_default_and_the_api_calls_an_alias() -> None:
    template = load()
    parameter = template.raw["Parameters"]["SnapStart"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("None", ["None", "PublishedVersions"])
    globals_ = template.raw["Globals"]["Function"]
    assert globals_["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert globals_["AutoPublishAlias"] == "live"


@pytest.mark.parametrize("module", FUNCTION_MODULES)
def test_every_function_makes_its_clients_at_init(module: str) -> None:
    """Each function module calls `lifecycle.init` (directly, or through `lambda_entry`)."""
    source = (ROOT / module.replace(".", "/")).with_suffix(".py").read_text()
    custom_resources = ("functions.platform_apps.app", "functions.key_rotation.app")
    if module in custom_resources:
        pytest.skip("called a few times a month: its clients are made on first use")
    assert "lifecycle.init(" in source or "lambda_entry(" in source
