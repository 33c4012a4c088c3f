"""What operators run: docker-compose.yml, the Dockerfile, .dockerignore and the lock files.

PyYAML is not a dependency, so the compose file is read with a small indentation walker that is
enough for its plain block style (no anchors, no flow mappings).
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
MAKEFILE = ROOT / "Makefile"
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


# --- docker-compose.yml ------------------------------------------------------------------


def _significant(text: str) -> list[str]:
    return [
        line.rstrip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _keys(lines: list[str]) -> list[str]:
    top = min(_indent(line) for line in lines)
    return [line.strip().split(":", 1)[0] for line in lines if _indent(line) == top]


def _entry(lines: list[str], key: str) -> tuple[str, list[str]]:
    """The inline value (comment dropped) and the nested lines of `key:` at the top of lines."""
    top = min(_indent(line) for line in lines)
    for i, line in enumerate(lines):
        name, sep, value = line.strip().partition(":")
        if _indent(line) == top and sep and name == key:
            nested: list[str] = []
            for other in lines[i + 1 :]:
                if _indent(other) <= top:
                    break
                nested.append(other)
            return value.split(" #", 1)[0].strip(), nested
    raise KeyError(key)


def _compose() -> list[str]:
    return _significant(COMPOSE.read_text())


def _service(name: str) -> list[str]:
    return _entry(_entry(_compose(), "services")[1], name)[1]


def _items(nested: list[str]) -> list[str]:
    return [line.strip().removeprefix("- ").strip().strip("\"'") for line in nested]


def test_the_compose_services_operators_rely_on_are_there() -> None:
    services = _keys(_entry(_compose(), "services")[1])
    assert {"bot", "mongodb", "mongo-express", "seed"} <= set(services)
    mongodb = _service("mongodb")
    assert any(item.endswith(":/data/db") for item in _items(_entry(mongodb, "volumes")[1]))
    assert _entry(_entry(mongodb, "healthcheck")[1], "test")[0]
    for name in ("bot", "mongo-express", "seed"):
        waits_for = _entry(_entry(_service(name), "depends_on")[1], "mongodb")[1]
        assert _entry(waits_for, "condition")[0] == "service_healthy", name
    assert _items(_entry(_service("mongo-express"), "ports")[1]) == ["127.0.0.1:8081:8081"]
    # seed is a one-shot behind a profile: `up -d` does not start it, `run --rm seed` does.
    assert "tools" in _entry(_service("seed"), "profiles")[0]


def test_env_file_uses_the_syntax_every_compose_v2_accepts() -> None:
    """`env_file: [{path: .env, required: false}]` needs Compose 2.24; older ones reject it
    ("services.bot.env_file.0 must be a string"). Only plain paths here."""
    value, nested = _entry(_service("bot"), "env_file")
    paths = [value] if value else [line.strip() for line in nested]
    for line in paths:
        assert re.fullmatch(r"(- )?[^:\s{}\[\]]+", line), f"long env_file syntax: {line!r}"
    assert _items(nested) == [".env"] or value == ".env"
    for name in _keys(_entry(_compose(), "services")[1]):
        try:
            _, nested = _entry(_service(name), "env_file")
        except KeyError:
            continue
        long_syntax = ("path:", "- path:", "required:")
        assert not any(line.strip().startswith(long_syntax) for line in nested), name


_PORT_ENV = re.compile(r"\$\{PORT:-(\d+)\}|(\d+)")


def _port_default(value: str) -> str:
    match = _PORT_ENV.fullmatch(value.strip("\"'"))
    assert match, value
    return match.group(1) or match.group(2)


def test_the_bot_listens_publishes_and_is_health_checked_on_one_port() -> None:
    bot = _service("bot")
    port = _entry(_entry(bot, "environment")[1], "PORT")[0].strip("\"'")
    (mapping,) = _items(_entry(bot, "ports")[1])
    port_pattern = r"\$\{PORT:-\d+\}|\d+"
    container_side = re.fullmatch(rf"(?:[\d.]+:)?({port_pattern}):({port_pattern})", mapping)
    assert container_side, mapping
    assert container_side.group(2) == port, "the container port must be the PORT the bot serves on"
    # The image's HEALTHCHECK reads PORT; compose must not switch it off (in Socket Mode too:
    # /health is served on PORT in both modes).
    try:
        healthcheck = _entry(bot, "healthcheck")[1]
    except KeyError:
        healthcheck = []
    assert not any("disable: true" in line or "NONE" in line for line in healthcheck)
    check = _dockerfile_instructions("HEALTHCHECK")
    assert len(check) == 1
    assert "/health" in check[0] and "PORT" in check[0]
    env = " ".join(_dockerfile_instructions("ENV"))
    assert f"PORT={_port_default(port)}" in env, "compose's default PORT is the image's"


# --- Dockerfile and .dockerignore --------------------------------------------------------


def _dockerfile() -> list[str]:
    """Instructions, one per entry, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [line.strip() for line in _significant(joined)]


def _dockerfile_instructions(keyword: str) -> list[str]:
    return [line for line in _dockerfile() if line.split()[0].upper() == keyword]


_CODE = ("bot", "core", "storage", "blocks", "scripts", "pyproject.toml", ".")


def test_dependencies_are_installed_from_the_lock_in_a_layer_before_the_code() -> None:
    lines = _dockerfile()
    copy_lock = lines.index("COPY requirements.lock ./")
    install_deps = next(
        i for i, line in enumerate(lines) if "--require-hashes -r requirements.lock" in line
    )
    copies_of_code = [
        i
        for i, line in enumerate(lines)
        if line.startswith("COPY ")
        and "--from" not in line
        and any(src.rstrip("/") in _CODE for src in line.split()[1:-1])
    ]
    install_code = next(i for i, line in enumerate(lines) if "pip install --no-deps" in line)
    assert copy_lock < install_deps < min(copies_of_code) <= max(copies_of_code) < install_code
    # Nothing but the lock reaches the dependency layer.
    assert [line for line in lines[:install_deps] if line.startswith(("COPY", "ADD"))] == [
        "COPY requirements.lock ./"
    ]


def test_the_image_is_slim_non_root_and_health_checked() -> None:
    lines = _dockerfile()
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    image = final_stage[0].split()[1]
    args = " ".join(_dockerfile_instructions("ARG"))
    assert "slim" in image or ("slim" in args and image.startswith("${")), image
    users = [line.split()[1] for line in final_stage if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK ") for line in final_stage)


def _dockerignore() -> list[str]:
    return [line.strip() for line in _significant(DOCKERIGNORE.read_text())]


@pytest.mark.parametrize(
    "path",
    [
        ".git",
        ".venv",
        ".ci-venv",
        ".env",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        "bot/__pycache__",
    ],
)
def test_dockerignore_keeps_local_state_out_of_the_build_context(path: str) -> None:
    assert any(fnmatch.fnmatch(path, pattern) for pattern in _dockerignore()), path


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    sources = [
        src
        for line in _dockerfile_instructions("COPY")
        if "--from" not in line
        for src in line.split()[1:-1]
    ]
    assert "requirements.lock" in sources and "README.md" in sources
    for src in sources:
        assert not any(fnmatch.fnmatch(src, pattern) for pattern in _dockerignore()), src


# --- lock files ----------------------------------------------------------------------------


def _lock(path: Path) -> dict[str, tuple[Requirement, list[str]]]:
    """name → (requirement, hashes), one entry per pinned package."""
    text = re.sub(r"\\\n", " ", path.read_text())
    entries: dict[str, tuple[Requirement, list[str]]] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"{path.name}: an option in the lock: {line!r}"
        spec, *options = re.split(r"\s+(?=--)", line)
        requirement = Requirement(spec)
        hashes = [option.removeprefix("--hash=") for option in options]
        assert all(option.startswith("--hash=sha256:") for option in options), line
        entries[canonicalize_name(requirement.name)] = (requirement, hashes)
    return entries


@pytest.mark.parametrize("path", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_locked_package_is_pinned_exactly_with_hashes(path: Path) -> None:
    entries = _lock(path)
    assert len(entries) > 20
    for name, (requirement, hashes) in entries.items():
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", name
        assert hashes, f"{name} has no --hash"
        assert requirement.url is None and not requirement.extras, name
    assert "file://" not in path.read_text(), "a local index leaked into the lock"


def _assert_pins(lock: dict[str, tuple[Requirement, list[str]]], wanted: list[str]) -> None:
    for line in wanted:
        required = Requirement(line)
        name = canonicalize_name(required.name)
        assert name in lock, f"{name} (pyproject.toml) is not in the lock: run `make lock`"
        (pin,) = lock[name][0].specifier
        assert required.specifier.contains(pin.version, prereleases=True), (
            f"{name}=={pin.version} does not satisfy {required.specifier}: run `make lock`"
        )


def test_the_locks_pin_everything_pyproject_names() -> None:
    runtime, dev = _lock(RUNTIME_LOCK), _lock(DEV_LOCK)
    project = PYPROJECT["project"]
    build = PYPROJECT["build-system"]["requires"]
    _assert_pins(runtime, [*project["dependencies"], *build])
    _assert_pins(dev, [*project["dependencies"], *project["optional-dependencies"]["dev"], *build])
    # The runtime lock is the image's: no test or lint tools in it.
    for tool in project["optional-dependencies"]["dev"]:
        assert canonicalize_name(Requirement(tool).name) not in runtime


def test_the_image_and_ci_install_the_same_versions() -> None:
    runtime, dev = _lock(RUNTIME_LOCK), _lock(DEV_LOCK)
    for name, (requirement, hashes) in runtime.items():
        assert name in dev, name
        assert dev[name][0].specifier == requirement.specifier, name
        assert set(hashes) == set(dev[name][1]), name


def test_make_install_uses_the_lock_with_hashes() -> None:
    makefile = MAKEFILE.read_text()
    stamp_rule = re.search(r"^\$\(STAMP\):(.*)\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert stamp_rule, "no $(STAMP) rule"
    prerequisites, recipe = stamp_rule.group(1).split(), stamp_rule.group(2)
    assert {"requirements-dev.lock", "pyproject.toml"} <= set(prerequisites)
    assert "--require-hashes -r requirements-dev.lock" in recipe
    assert re.search(r"pip install .*--no-deps.* -e \.", recipe)
    assert ".[dev]" not in recipe, "the dev extra would be resolved afresh, not from the lock"
    lock_rule = re.search(r"^lock:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert lock_rule, "no `make lock`"
    assert "-o requirements-dev.lock" in lock_rule.group(1)
    assert "-o requirements.lock" in lock_rule.group(1)
