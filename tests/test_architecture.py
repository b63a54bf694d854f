"""The house stays one-way (DESIGN.md, "The shape of the house"): read every module's imports
with ast and fail on an import that runs up a layer, two modules that import each other, a
private name taken from another module, a dynamic import, or viz reaching past core/mechanics."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cnnlab"
# DESIGN.md's layers, lowest first; a module may import its own layer or a lower one
LAYERS = ["core", "mechanics", "nn", "data", "models", "viz", "engine", "tasks", "studies",
          "lecture", "export", "app", "cli"]  # fmt: skip
TOP = len(LAYERS)  # cnnlab/__init__.py and __main__.py: the public face, above everything
VIZ_MAY_IMPORT = {"core", "mechanics", "viz"}


def module_name(path: Path) -> str:
    parts = ["cnnlab", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else TOP


def resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, path: Path) -> list[tuple[str, str, int]]:
    """(imported cnnlab module, imported name or "", line) for every import, at any depth
    (a lazy import inside a function still ties the two modules)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names if a.name.startswith("cnnlab")]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, path, node)
            if not target.startswith("cnnlab"):
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                # `from cnnlab.engine import runs` imports the module cnnlab.engine.runs
                hit = (sub, "") if sub in MODULES else (target, a.name)
                out.append((*hit, node.lineno))
    return out


GRAPH = {m: imports(m, p) for m, p in MODULES.items()}


def test_the_package_is_read():
    assert len(MODULES) > 50 and "cnnlab.engine.loop" in MODULES and "cnnlab.tasks" in MODULES


def test_no_import_runs_up_a_layer():
    bad = [f"{m}:{line} imports {t} ({LAYERS[layer(m)] if layer(m) < TOP else 'top'} -> "
           f"{LAYERS[layer(t)] if layer(t) < TOP else 'top'})"
           for m, deps in GRAPH.items() for t, _, line in deps if layer(t) > layer(m)]  # fmt: skip
    assert not bad, "\n".join(bad)


def test_viz_draws_from_arrays_and_results_only():
    bad = [f"{m}:{line} imports {t}" for m, deps in GRAPH.items() if layer(m) == LAYERS.index("viz")
           for t, _, line in deps if t.split(".")[1] not in VIZ_MAY_IMPORT]  # fmt: skip
    assert not bad, "\n".join(bad)


def _owner(target: str) -> str:
    """The module an import refers to (a package's __init__ for a name taken from it)."""
    while target not in MODULES and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def test_no_two_modules_import_each_other():
    edges = {m: {_owner(t) for t, _, _ in deps} - {m} for m, deps in GRAPH.items()}
    pairs = sorted({tuple(sorted((a, b))) for a, deps in edges.items() for b in deps
                    if a in edges.get(b, set())})  # fmt: skip
    assert not pairs, pairs


def test_no_private_name_crosses_a_module():
    bad = [f"{m}:{line} takes {name} from {t}" for m, deps in GRAPH.items()
           for t, name, line in deps
           if name.startswith("_") and not name.startswith("__") and _owner(t) != m]  # fmt: skip
    for m, path in MODULES.items():  # module._private through an imported module
        tree = ast.parse(path.read_text())
        aliases = {a.asname or a.name.split(".")[-1]
                   for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and resolve(m, path, node).startswith("cnnlab") for a in node.names
                   if f"{resolve(m, path, node)}.{a.name}" in MODULES}  # fmt: skip
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):  # fmt: skip
                bad.append(f"{m}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_dynamic_imports(module):
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "importlib":
            assert all(a.name != "import_module" for a in node.names), module
        if isinstance(node, ast.Import):
            assert all(a.name != "importlib" for a in node.names), module
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "__import__", module


GPL = ("gymnasium", "minatar", "ale_py")  # the RL task's optional (GPL) packages
GPL_HOME = "cnnlab.tasks.rl.envs"


def _imports_outside(packages: tuple[str, ...], home: str) -> list[str]:
    """Where `packages` are imported other than inside the functions of module `home`."""
    bad = []
    for m, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])  # fmt: skip
            for name in names:
                if name.split(".")[0] in packages and (m != home or node in tree.body):
                    bad.append(f"{m}:{node.lineno} imports {name}")
    return bad


def test_only_the_rl_environments_import_the_gpl_packages():
    """MinAtar and ale-py (GPL) and Gymnasium stay optional: one module imports them, inside
    its functions, so importing any of cnnlab never needs them."""
    bad = _imports_outside(GPL, GPL_HOME)
    assert not bad, "\n".join(bad)


def test_only_the_tabletop_simulation_imports_pybullet():
    """pybullet stays an optional extra (cnnlab[robotics]): one module imports it, inside its
    functions; the arm and the grasp loop reach it through that module's Scene."""
    bad = _imports_outside(("pybullet", "pybullet_data"), "cnnlab.data.tabletop_sim")
    assert not bad, "\n".join(bad)
