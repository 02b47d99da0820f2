"""The package installs what it imports, the Docker image installs the same package set, and the README's two
set-up commands are the ones CI runs."""
import ast
import os
import re
import sys
import tomllib
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pyproject():
  with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
    return tomllib.load(handle)


def package_folders() -> dict[str, str]:
  """{top-level import name: its folder}: pyproject's package-dir, else the folder of the same name."""
  setuptools = pyproject()["tool"]["setuptools"]
  tops = sorted({name.split(".")[0] for name in setuptools["packages"]})
  return {name: setuptools["package-dir"].get(name, name) for name in tops}


def test_every_third_party_import_of_the_package_is_a_declared_dependency():
  declared = {re.split(r"[<>=!\[ ]", d)[0].lower().replace("_", "-") for d in pyproject()["project"]["dependencies"]}
  optional = {re.split(r"[<>=!\[ ]", d)[0].lower().replace("_", "-")
              for deps in pyproject()["project"]["optional-dependencies"].values() for d in deps}
  distributions = metadata.packages_distributions()
  imported = set()
  for folder, _, files in [w for package in package_folders().values() for w in os.walk(os.path.join(ROOT, package))]:
    for name in files:
      if name.endswith(".py"):
        tree = ast.parse(open(os.path.join(folder, name), encoding="utf-8").read())
        for node in ast.walk(tree):
          if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
          elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
  third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in package_folders()}
  for module in sorted(third_party):
    names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
    assert names & (declared | optional), f"{module} is imported but not declared in pyproject.toml"


def test_dockerfile_installs_the_package_from_this_pyproject():
  """The image's Python is bookworm's 3.11 on a base given as a build argument; its dependencies are read from
  pyproject.toml (no side list); the dataflow target's Beam boot program comes from the SDK image of the Beam version
  pyproject pins. (tests/docker/ builds and runs the image for real.)"""
  text = open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8").read()
  assert re.search(r"^ARG BASE_IMAGE=debian:bookworm", text, re.M) and "FROM ${BASE_IMAGE} AS runtime" in text
  entrypoint = open(os.path.join(ROOT, "docker-entrypoint.sh"), encoding="utf-8").read()
  assert "/opt/apache/beam/boot" in entrypoint and 'exec "$@"' in entrypoint
  assert "COPY pyproject.toml" in text
  for folder in package_folders().values():  # every package folder, under its folder name (pyproject maps it)
    assert f"COPY {folder} ./{folder}\n" in text, folder
  beam_pin = re.search(r'"apache-beam\[[^]]*\]==([0-9.]+)"', open(os.path.join(ROOT, "pyproject.toml")).read())
  assert f"ARG BEAM_SDK_IMAGE=apache/beam_python3.11_sdk:{beam_pin.group(1)}" in text  # boot matches the SDK
  assert "FROM ${BEAM_SDK_IMAGE} AS beam_sdk" in text and "COPY --from=beam_sdk /opt/apache/beam" in text
  assert "tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']" in text
  installs = re.findall(r"pip install[^\n]*", text)
  assert installs == ['pip install --no-cache-dir -r /tmp/requirements.txt "setuptools>=68" \\',
                      "pip install --no-cache-dir --no-deps --no-build-isolation ."], installs
  assert not re.search(r"COPY [^\n]*requirements", text)  # the list is written from pyproject inside the build


def test_readme_test_command_is_what_ci_runs():
  readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
  ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
  commands = re.findall(r"```(?:bash|sh)\n(.*?)\n```", readme.split("## Set-up")[1].split("\n## ")[0], re.S)
  assert len(commands) == 2, "the Set-up section holds exactly two commands"
  main_job, tests = (c.strip() for c in commands)
  assert tests == "bash .ci/run" and "python -m pytest" in ci
  assert "kubricgen study" in main_job and "[train]" in main_job  # build -> train -> analyze, one command


def test_every_package_folder_is_listed_in_pyproject():
  """pyproject lists packages (sharding/ and robustness/ install as kubricgen_sharding and kubricgen_robustness), so
  a new one must be added there; every top-level folder with an __init__.py is one of them."""
  listed = set(pyproject()["tool"]["setuptools"]["packages"])
  mapping = pyproject()["tool"]["setuptools"]["package-dir"]
  assert mapping == {"kubricgen_sharding": "sharding", "kubricgen_robustness": "robustness"}
  unlisted = [name for name in os.listdir(ROOT) if os.path.isfile(os.path.join(ROOT, name, "__init__.py"))
              and name not in package_folders().values() and name != "tests"]
  assert not unlisted, f"package folders pyproject does not install: {unlisted}"
  found = set()
  for name, top in package_folders().items():
    for folder, _, files in os.walk(os.path.join(ROOT, top)):
      if "__init__.py" in files:
        parts = [part for part in os.path.relpath(folder, os.path.join(ROOT, top)).split(os.sep) if part != "."]
        found.add(".".join([name, *parts]))
  assert found == listed, (found - listed, listed - found)


def test_installed_top_level_packages_cannot_clash_with_other_distributions():
  """Every top-level import name is kubricgen or kubricgen_*: a generic name (`beam_jobs`, `robustness`) could be
  another distribution's package in the same environment. The installed distribution provides exactly these names,
  and each imports from its folder here (Beam workers unpickle the sharding layer's DoFns by module path, so a worker
  image must install the same names)."""
  import importlib.util
  assert all(name == "kubricgen" or name.startswith("kubricgen_") for name in package_folders()), package_folders()
  installs = [d for d in metadata.distributions(name="kubricgen")  # not a stale kubricgen.egg-info in the checkout
              if os.path.realpath(str(d.locate_file(""))) != ROOT]
  assert installs, "kubricgen is not installed (pip install -e .)"
  installed = set(installs[0].read_text("top_level.txt").split())
  assert installed == set(package_folders()), f"reinstall (pip install -e .): installed {sorted(installed)}"
  for name, folder in package_folders().items():
    spec = importlib.util.find_spec(name)
    locations = [os.path.realpath(p) for p in spec.submodule_search_locations]
    assert os.path.join(ROOT, folder) in locations, (name, locations)


# Each stage of the data's path may import only what it is built on (kubricgen.scene is the model every view reads;
# the renderer and simulator are views of it that know nothing of runs, flags or datasets; the sharding layer knows
# only keys, jobs and examples, and reaches gs:// through kubricgen.storage; training and analysis read datasets and
# never render or shard). Stages and forbidden modules are import names (folders: `stage_folder`).
FORBIDDEN_IMPORTS = {
    "kubricgen.scene": ("kubricgen.renderer", "kubricgen.simulator", "kubricgen.worker", "kubricgen.datasets",
                        "kubricgen.cli", "kubricgen.assets", "kubricgen_sharding", "kubricgen_robustness"),
    "kubricgen.renderer": ("kubricgen.worker", "kubricgen.simulator", "kubricgen.datasets", "kubricgen.cli",
                           "kubricgen_sharding", "kubricgen_robustness"),
    "kubricgen.simulator": ("kubricgen.worker", "kubricgen.renderer", "kubricgen.datasets", "kubricgen.cli",
                            "kubricgen_sharding", "kubricgen_robustness"),
    "kubricgen_sharding": ("kubricgen.assets", "kubricgen.datasets", "kubricgen.renderer", "kubricgen.simulator",
                           "kubricgen.worker", "kubricgen.scene", "kubricgen.output", "kubricgen.cli",
                           "kubricgen_robustness"),
    "kubricgen_robustness": ("kubricgen.renderer", "kubricgen.simulator", "kubricgen.scene", "kubricgen.worker",
                             "kubricgen_sharding"),
}


def stage_folder(stage: str) -> str:
  top, *rest = stage.split(".")
  return os.path.join(ROOT, package_folders()[top], *rest)


def forbidden_imports_in(folder: str, forbidden) -> list[str]:
  """'path:line imports module' for each import under `folder` of a module in (or below) `forbidden`."""
  broken = []
  for parent, _, files in os.walk(folder):
    for name in (n for n in files if n.endswith(".py")):
      path = os.path.join(parent, name)
      for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
          modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
          modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
          continue
        for module in modules:
          if any(module == f or module.startswith(f + ".") for f in forbidden):
            broken.append(f"{os.path.relpath(path, ROOT)}:{node.lineno} imports {module}")
  return broken


def test_each_stage_imports_only_what_it_is_built_on():
  broken = []
  for stage, forbidden in FORBIDDEN_IMPORTS.items():
    assert os.path.isdir(stage_folder(stage)), stage
    broken += forbidden_imports_in(stage_folder(stage), forbidden)
  assert not broken, "\n".join(sorted(set(broken)))


def test_the_import_rule_catches_every_form_of_a_forbidden_import(tmp_path):
  (tmp_path / "bad.py").write_text("import kubricgen.assets.fetch\nfrom kubricgen import datasets\n"
                                   "def f():\n  from kubricgen.assets.integrity import sha256_file\n"
                                   "from kubricgen import storage\n")
  found = forbidden_imports_in(str(tmp_path), FORBIDDEN_IMPORTS["kubricgen_sharding"])
  assert [line.split(" imports ")[1] for line in found] == ["kubricgen.assets.fetch", "kubricgen.datasets",
                                                            "kubricgen.assets.integrity",
                                                            "kubricgen.assets.integrity.sha256_file"], found


def test_the_sharding_layer_loads_no_dataset_asset_or_engine_code():
  """At run time too: importing every module of the sharding layer loads nothing of SI-Score, the asset library,
  the engines or the trainer (kubricgen.storage runs kubricgen/__init__: the scene API, light)."""
  import subprocess
  modules = sorted(n[:-3] for n in os.listdir(stage_folder("kubricgen_sharding")) if n.endswith(".py"))
  code = ("import sys\n" + "".join(f"import kubricgen_sharding.{m}\n" for m in modules if m != "__init__") +
          "print(sorted(m for m in sys.modules if m.startswith(('kubricgen.assets', 'kubricgen.datasets', "
          "'kubricgen.simulator', 'kubricgen_robustness', 'bpy', 'pybullet', 'torch'))))")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd="/")
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip() == "[]", result.stdout
