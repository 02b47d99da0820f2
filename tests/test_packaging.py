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


def test_every_third_party_import_of_the_package_is_a_declared_dependency():
  declared = {re.split(r"[<>=!\[ ]", d)[0].lower().replace("_", "-") for d in pyproject()["project"]["dependencies"]}
  optional = {re.split(r"[<>=!\[ ]", d)[0].lower().replace("_", "-")
              for deps in pyproject()["project"]["optional-dependencies"].values() for d in deps}
  distributions = metadata.packages_distributions()
  imported = set()
  for folder, _, files in [w for package in ("kubricgen", "beam_jobs", "robustness")
                             for w in os.walk(os.path.join(ROOT, package))]:
    for name in files:
      if name.endswith(".py"):
        tree = ast.parse(open(os.path.join(folder, name), encoding="utf-8").read())
        for node in ast.walk(tree):
          if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
          elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
  third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in ("kubricgen", "beam_jobs", "kubricgen_robustness")}
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
  assert "COPY pyproject.toml" in text and "COPY kubricgen" in text and "COPY beam_jobs" in text
  assert "COPY robustness" in text
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
  """pyproject lists packages (robustness/ installs as kubricgen_robustness), so a new one must be added there."""
  listed = set(pyproject()["tool"]["setuptools"]["packages"])
  mapping = pyproject()["tool"]["setuptools"]["package-dir"]
  assert mapping == {"kubricgen_robustness": "robustness"}
  found = set()
  for top, name in (("kubricgen", "kubricgen"), ("beam_jobs", "beam_jobs"), ("robustness", "kubricgen_robustness")):
    for folder, _, files in os.walk(os.path.join(ROOT, top)):
      if "__init__.py" in files:
        parts = [part for part in os.path.relpath(folder, os.path.join(ROOT, top)).split(os.sep) if part != "."]
        found.add(".".join([name, *parts]))
  assert found == listed, (found - listed, listed - found)


# Each stage of the data's path may import only what it is built on (kubricgen.scene is the model every view reads;
# the renderer and simulator are views of it that know nothing of runs, flags or datasets; training and analysis
# read datasets and never render or shard).
FORBIDDEN_IMPORTS = {
    "kubricgen.scene": ("kubricgen.renderer", "kubricgen.simulator", "kubricgen.worker", "kubricgen.datasets",
                        "kubricgen.cli", "kubricgen.assets", "beam_jobs", "robustness"),
    "kubricgen.renderer": ("kubricgen.worker", "kubricgen.simulator", "kubricgen.datasets", "kubricgen.cli",
                           "beam_jobs", "robustness"),
    "kubricgen.simulator": ("kubricgen.worker", "kubricgen.renderer", "kubricgen.datasets", "kubricgen.cli",
                            "beam_jobs", "robustness"),
    "beam_jobs": ("kubricgen.datasets", "kubricgen.renderer", "kubricgen.simulator", "kubricgen.worker",
                  "robustness"),
    "robustness": ("kubricgen.renderer", "kubricgen.simulator", "kubricgen.scene", "kubricgen.worker",
                   "beam_jobs"),
}


def test_each_stage_imports_only_what_it_is_built_on():
  broken = []
  for stage, forbidden in FORBIDDEN_IMPORTS.items():
    folder = os.path.join(ROOT, *stage.split("."))
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
  assert not broken, "\n".join(sorted(set(broken)))
