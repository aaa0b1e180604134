"""Checks what `sam build` put in .aws-sam/build and prints the deployment package sizes.

- Every wheel in the layer is pure Python or built for CPython 3.12 on arm64 (manylinux up to
  glibc 2.34, Amazon Linux 2023's), and every shared object in it is an AArch64 ELF.
- The built artifacts import: each handler, and every module that the handlers and qbo_sync
  import (lazily imported ones included), from the built function directory and the layer only,
  in a fresh interpreter that sees none of this machine's site-packages. This machine cannot load
  the layer's AArch64 extension modules, so for each such distribution pip fetches the same
  version built for this machine ("twins"); the runtime's boto3 is linked from this interpreter.
  Everything pure Python comes from the build.
- The imports run on python3.12 (Lambda's runtime) when this machine has one, otherwise on this
  interpreter, and say which.
- The layer holds no boto3, botocore or s3transfer: the runtime's are used.
- The layer's clients, made from the build, load their endpoints and models from the layer's
  cut-down botocore data (qbo_sync/core/aws_data), not from botocore's own.
- Every module of the layer has python3.12's bytecode beside it (when this machine has a
  python3.12 to have compiled it): Lambda's /opt is read-only, so a cold start would compile
  each module it imports (docs/performance.md).
- Function and layer together stay under Lambda's 250 MB unzipped limit.

Usage: python .ci/check_build.py [.aws-sam/build]     (LAMBDA_PYTHON=path picks the interpreter)
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

LAYER_ID = "SharedLayer"
LAMBDA_UNZIPPED_LIMIT = 262_144_000
MAX_GLIBC_MINOR = 34  # python3.12's Amazon Linux 2023
AARCH64 = 183  # ELF e_machine
# In the python3.12 runtime, not in the layer: the functions must not need them in it.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "dateutil", "jmespath", "six", "urllib3")
SDK = ("boto3", "botocore", "s3transfer")
# Lambda's own modules, in the managed runtime only (SnapStart's runtime hooks, python3.12+):
# the code imports them guarded, so the probe does not ask for them.
LAMBDA_ONLY = ("snapshot_restore_py",)
# What the probe sees of the environment: no credentials, and what Lambda sets that code checks
# to tell it runs there (Powertools' Tracer, for one, imports the X-Ray SDK only in Lambda).
PROBE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
}


def main(build_dir: Path) -> int:
    template = yaml.safe_load((build_dir / "template.yaml").read_text())
    layer = build_dir / LAYER_ID / "python"
    problems = check_wheels(layer) + check_shared_objects(layer) + check_runtime_kept(layer)
    functions = {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    python = probe_python()
    problems += check_bytecode(layer, python)
    with tempfile.TemporaryDirectory() as twins, tempfile.TemporaryDirectory() as runtime:
        overlays = (Path(twins), Path(runtime))
        problems += install_twins(compiled_distributions(layer), python, overlays[0])
        link_host_modules(list(RUNTIME_PROVIDED), overlays[1])
        for props in functions.values():
            code = build_dir / props["CodeUri"]
            problems += check_imports(python, code, props["Handler"], layer, overlays)
        problems += check_clients(python, layer, overlays)
    codes = {logical_id: build_dir / props["CodeUri"] for logical_id, props in functions.items()}
    problems += report_sizes(layer.parent, codes)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print("build check: " + ("failed" if problems else "ok"))
    return 1 if problems else 0


# --- what pip put in the layer ------------------------------------------------------------------


def wheel_tags(dist_info: Path) -> list[str]:
    lines = (dist_info / "WHEEL").read_text().splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:")]


def check_wheels(layer: Path) -> list[str]:
    problems = []
    for dist_info in sorted(layer.glob("*.dist-info")):
        tags = wheel_tags(dist_info)
        name = dist_info.name.removesuffix(".dist-info")
        fitting = [tag for tag in tags if fits_lambda(tag)]
        pure = any(tag.endswith("-none-any") for tag in fitting)
        kind = "pure Python" if pure else ", ".join(fitting)
        print(f"  {name}: {kind or 'NOT FOR THE RUNTIME: ' + ', '.join(tags)}")
        if not fitting:
            problems.append(f"{name} has no wheel for CPython 3.12 on arm64 ({', '.join(tags)})")
    return problems


def fits_lambda(tag: str) -> bool:
    interpreter, abi, platform = tag.split("-")
    if platform == "any":
        return abi == "none" and interpreter.startswith(("py3", "py2.py3", "cp312"))
    if not platform.endswith("_aarch64"):
        return False
    if platform.startswith("manylinux_2_"):
        if int(platform.split("_")[2]) > MAX_GLIBC_MINOR:
            return False
    elif platform != "manylinux2014_aarch64":
        return False
    if abi == "abi3":
        return interpreter.startswith("cp3") and int(interpreter[3:]) <= 12
    return interpreter == "cp312" and abi == "cp312"


def check_shared_objects(layer: Path) -> list[str]:
    problems = []
    for path in layer.rglob("*.so*"):
        if not path.is_file():
            continue
        header = path.read_bytes()[:20]
        machine = int.from_bytes(header[18:20], "little") if header[:4] == b"\x7fELF" else None
        if machine != AARCH64:
            problems.append(f"{path.relative_to(layer)} is not an AArch64 shared object")
        if "cpython-" in path.name and "cpython-312-aarch64" not in path.name:
            problems.append(f"{path.relative_to(layer)} is not built for CPython 3.12 on arm64")
    return problems


def check_runtime_kept(layer: Path) -> list[str]:
    """boto3 comes from the runtime: a copy of it (or of its botocore) in the layer would win."""
    return [
        f"{name} is in the layer; the runtime's must be used"
        for name in SDK
        if (layer / name).exists() or any(layer.glob(f"{name}-*.dist-info"))
    ]


def compiled_distributions(layer: Path) -> list[str]:
    """`name==version` of each distribution in the layer that is not pure Python."""
    pins = []
    for dist_info in sorted(layer.glob("*.dist-info")):
        if not any(tag.endswith("-none-any") for tag in wheel_tags(dist_info)):
            name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
            pins.append(f"{name}=={version}")
    return pins


# --- do the built artifacts import --------------------------------------------------------------


def probe_python() -> str:
    """python3.12 when it runs here, else this interpreter; its real path, not a shim's."""
    # pyenv's shim refuses python3.12 unless a 3.12 is selected; elsewhere this is ignored.
    env = {**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.12")}
    report = "import sys; print('%d.%d' % sys.version_info[:2], sys.executable)"
    for candidate in (os.environ.get("LAMBDA_PYTHON") or "python3.12", sys.executable):
        try:
            result = subprocess.run(
                [candidate, "-c", report], capture_output=True, text=True, env=env, check=False
            )
        except FileNotFoundError:
            continue
        if result.returncode == 0:
            version, executable = result.stdout.split(maxsplit=1)
            note = "" if version == "3.12" else " (no python3.12 here; Lambda runs 3.12)"
            print(f"  imports checked on Python {version}: {executable.strip()}{note}")
            return executable.strip()
    return sys.executable


def check_bytecode(layer: Path, python: str) -> list[str]:
    """Each .py of the layer has the runtime's .pyc (shared/Makefile compiles them)."""
    tag = subprocess.run(
        [python, "-c", "import sys; print(sys.implementation.cache_tag)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if tag != "cpython-312":
        print(f"  bytecode not checked: no python3.12 here ({tag})")
        return []
    sources = list(layer.rglob("*.py"))
    missing = [
        path
        for path in sources
        if not (path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").is_file()
    ]
    print(f"  bytecode: {len(sources) - len(missing)} of {len(sources)} modules ({tag})")
    return [f"{len(missing)} modules without {tag} bytecode, e.g. {missing[0]}"] if missing else []


def install_twins(pins: list[str], python: str, overlay: Path) -> list[str]:
    """The layer's compiled distributions, same versions, built for `python` on this machine."""
    if not pins:
        return []
    command = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    command += ["--no-deps", "--only-binary=:all:", "--target", str(overlay), *pins]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return [f"cannot fetch this machine's builds of {', '.join(pins)}: {result.stderr[-500:]}"]
    print(f"  stand-ins built for this machine (same versions): {', '.join(pins)}")
    return []


def check_imports(
    python: str, code: Path, handler: str, layer: Path, overlays: tuple[Path, Path]
) -> list[str]:
    module, _, attribute = handler.rpartition(".")
    found = imported_modules([code, layer / "qbo_sync"])
    wanted = sorted(name for name in found if name.split(".")[0] not in LAMBDA_ONLY)
    twins, runtime = overlays
    # Lambda's order: the function, the layer, then the runtime's own packages.
    path = [str(code), str(twins), str(layer), str(runtime)]
    probe = (
        "import importlib, sys\n"
        f"sys.path[:0] = {path!r}\n"
        f"handler = getattr(importlib.import_module({module!r}), {attribute!r})\n"
        "assert callable(handler)\n"
        f"for name in {wanted!r}:\n"
        "    importlib.import_module(name)\n"
    )
    # -I -S: nothing from this machine's site-packages but what the overlays hold.
    command = [python, "-I", "-S", "-B", "-c", probe]
    env = {**PROBE_ENV, "LAMBDA_TASK_ROOT": str(code), "AWS_LAMBDA_FUNCTION_NAME": code.name}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return [f"{code.name} ({handler}) does not import from the build: {last}"]
    print(f"  {code.name}: {handler} and the {len(wanted)} modules it and qbo_sync import: ok")
    return []


def check_clients(python: str, layer: Path, overlays: tuple[Path, Path]) -> list[str]:
    path = [str(overlays[0]), str(layer), str(overlays[1])]
    probe = (
        "import json, sys\n"
        f"sys.path[:0] = {path!r}\n"
        "opened = []\n"
        "sys.addaudithook(lambda event, args: event == 'open' and opened.append(str(args[0])))\n"
        "from qbo_sync.core import aws\n"
        "for service in aws.SERVICES:\n"
        "    getattr(aws, service)()\n"
        "print(json.dumps([p for p in opened if p.endswith(('.json', '.json.gz'))]))\n"
    )
    # Credentials only so that creating a client does not ask the instance metadata service.
    env = {**PROBE_ENV, "AWS_ACCESS_KEY_ID": "probe", "AWS_SECRET_ACCESS_KEY": "probe"}
    command = [python, "-I", "-S", "-B", "-c", probe]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return [f"the layer's AWS clients cannot be made from the build: {last}"]
    data = str((layer / "qbo_sync" / "core" / "aws_data").resolve())
    models = [p for p in json.loads(result.stdout) if p.endswith(_CUT_DOWN)]
    elsewhere = [p for p in models if not str(Path(p).resolve()).startswith(data)]
    if elsewhere or not models:
        return [f"the layer's AWS clients load botocore's own data: {elsewhere or 'none of ours'}"]
    print(f"  the layer's AWS clients: {len(models)} endpoints and model files from aws_data: ok")
    return []


# The files the layer's data replaces (local/botocore_data.py).
_CUT_DOWN = ("endpoints.json", "service-2.json", "service-2.json.gz")


def imported_modules(roots: list[Path]) -> set[str]:
    names: set[str] = set()
    for root in roots:
        for source in root.rglob("*.py"):
            names |= module_imports(ast.parse(source.read_text(), str(source)))
    local = {path.stem for root in roots for path in root.glob("*.py")}
    return {name for name in names if name.split(".")[0] not in local and name != "__future__"}


def module_imports(tree: ast.Module) -> set[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []  # stubs for the type checker only, not there at run time
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def link_host_modules(names: list[str], overlay: Path) -> None:
    """Links this interpreter's copy of each (pure Python) module into `overlay`."""
    distributions = importlib.metadata.packages_distributions()
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue  # missing here too: the probe's import fails and says which
        origin = Path(spec.origin)
        target = origin.parent if origin.name == "__init__.py" else origin
        (overlay / target.name).symlink_to(target)
        versions = [f"{d} {importlib.metadata.version(d)}" for d in distributions.get(name, [])]
        print(f"  {name}: the runtime's, played by this machine's {', '.join(versions)}")


# --- sizes --------------------------------------------------------------------------------------


def report_sizes(layer: Path, functions: dict[str, Path]) -> list[str]:
    problems = []
    layer_bytes = tree_size(layer)
    print(f"layer {LAYER_ID}: {mb(layer_bytes)} MB unzipped, {mb(zipped_size(layer))} MB zipped")
    for logical_id, code in sorted(functions.items()):
        size = tree_size(code)
        print(f"function {logical_id}: {mb(size)} MB unzipped, {mb(zipped_size(code))} MB zipped")
        if size + layer_bytes > LAMBDA_UNZIPPED_LIMIT:
            problems.append(f"{logical_id} and its layer exceed Lambda's 250 MB unzipped limit")
    return problems


def tree_size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def zipped_size(root: Path) -> int:
    """What `sam deploy` uploads: the directory zipped (deflate), as SAM packages it."""
    with tempfile.TemporaryFile() as stream:
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root))
        return stream.tell()


def mb(size: int) -> str:
    return f"{size / 1_000_000:.3f}"


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")))
