"""Every fenced code block of README.md and docs/*.md is exercised, so no snippet can rot.

A block may be preceded by a marker saying how it is checked; an unmarked block gets the
strictest check its language allows:

* ``<!-- test: run -->`` (python's default): executed in a fresh interpreter, with
  ``LOGIN_RUN_DIR`` set to a temporary run directory made by ``flask-modular-login init``
  and ``__name__`` not ``"__main__"``. ``run as NAME`` names a block, and a later
  ``run continue NAME`` of the same page executes after it (and what continued it), in
  their namespace; ``given: CODE`` runs CODE first (names the prose supplies, such as a
  user id or an app).
* ``<!-- test: compile (why) -->``: python is compiled and its ``flask_modular_login``
  imports resolved; sh is only syntax-checked (``sh -n``).
* ``<!-- test: skip REASON -->``: not checked; the reason is required and reported.

Per language: ``sh`` blocks pass ``sh -n`` and name real commands (``sh server.sh X``
with X a case of server.sh; ``flask-modular-login ...`` subcommands and options that the
click CLI has, each invoked with ``--help``; python scripts that exist); ``nginx`` blocks
pass ``nginx -t`` inside a minimal configuration; ``json`` blocks parse; ``ini``/``toml``
parse; blocks without a language (diagrams, messages) have each line that looks like a
JSON object parsed.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.support.servers import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!--\s*test:\s*(.*?)\s*-->$")
MODES = {"run", "compile", "skip"}
LANGUAGES = {"python", "sh", "nginx", "json", "ini", "toml", ""}


@dataclass
class Block:
    page: str
    line: int
    lang: str
    code: str
    mode: str
    reason: str = ""
    given: str = ""
    continues: bool = False
    chain: list[Block] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def parse_marker(text: str | None, lang: str) -> tuple[str, str, str, bool]:
    """(mode, reason, given, continues) of a marker's text (None: no marker)."""
    if text is None:
        return ("run" if lang == "python" else "check"), "", "", False
    text, _, given = text.partition("given:")
    words = text.split(None, 1)
    mode, rest = words[0].rstrip(";"), (words[1] if len(words) > 1 else "").strip()
    continues = mode == "run" and rest.startswith("continue")
    if continues:
        rest = rest[len("continue"):].strip()
    if mode != "skip" and lang != "python":
        mode = "check" if mode == "run" else mode
    return mode, rest.strip(" ;()"), given.strip(), continues


def blocks_of(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    page = str(path.relative_to(ROOT))
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang, start = lines[i][3:].strip(), i
            end = next(j for j in range(i + 1, len(lines)) if lines[j].rstrip() == "```")
            previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.match(previous.strip())
            mode, reason, given, continues = parse_marker(marker and marker.group(1), lang)
            found.append(Block(page, start + 1, lang, "\n".join(lines[start + 1:end]) + "\n",
                               mode, reason, given, continues))
            i = end
        i += 1
    return found


BLOCKS = [block for page in PAGES for block in blocks_of(page)]


def of(lang: str, *modes: str) -> list[Block]:
    return [b for b in BLOCKS if b.lang == lang and b.mode in modes]


def chains() -> list[Block]:
    """Run blocks, each with the blocks it continues (in page order) in ``chain``."""
    heads: list[Block] = []
    named: dict[tuple[str, str], Block] = {}
    for block in of("python", "run"):
        words = block.reason.split()
        if block.continues:
            key = (block.page, words[0] if words else "")
            assert key in named, f"{block.name}: 'run continue {key[1]}' with no 'run as' above"
            block.chain = [*named[key].chain, block]
            named[key] = block
        else:
            block.chain = [block]
            if words[:1] == ["as"] and len(words) > 1:
                named[(block.page, words[1])] = block
        heads.append(block)
    return heads


def ids(blocks: list[Block]) -> list[str]:
    return [b.name for b in blocks]


# -- every block is known --------------------------------------------------------------------

def test_every_block_has_a_language_and_a_mode_we_check():
    assert len(BLOCKS) > 40
    wrong = [(b.name, b.lang, b.mode) for b in BLOCKS
             if b.lang not in LANGUAGES or b.mode not in MODES | {"check"}
             or (b.mode == "compile" and b.lang not in {"python", "sh", "nginx"})]
    assert wrong == []


def test_every_marker_is_read():
    """A marker that does not parse, or stands away from a block, would silently fall back
    to the default check."""
    for page in PAGES:
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            if "<!-- test:" in line:
                assert MARKER.match(line.strip()), f"{page.name}:{i + 1}"
                following = next(x for x in lines[i + 1:] if x.strip())
                assert following.startswith("```"), f"{page.name}:{i + 1}: no block below"
                mode = MARKER.match(line.strip()).group(1).split(None, 1)[0].rstrip(";")
                assert mode in MODES, f"{page.name}:{i + 1}: {mode}"


SKIPPED = of("python", "skip") + of("sh", "skip") + of("nginx", "skip") + of("json", "skip") \
    + of("", "skip") + of("ini", "skip") + of("toml", "skip")


def test_skipped_blocks_give_a_reason():
    """A block may only be left untested with a reason; every such block is listed."""
    for block in SKIPPED:
        assert len(block.reason) > 10, f"{block.name}: a skip must say why"
    if SKIPPED:
        pytest.skip("untested blocks: " + "; ".join(f"{b.name}: {b.reason}" for b in SKIPPED))


# -- python ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("docs")
    run = home / "run"
    env = {**os.environ, "LOGIN_RUN_DIR": str(run)}
    subprocess.run([sys.executable, "-m", "flask_modular_login", "init"], cwd=home, env=env,
                   check=True, capture_output=True)
    return run


RUNNER = """
import sys
for name, given, code in BLOCKS:
    namespace = NAMESPACE
    exec(compile(given, name + " (given)", "exec"), namespace)
    exec(compile(code, name, "exec"), namespace)
"""


@pytest.mark.parametrize("block", chains(), ids=ids(chains()))
def test_python_block_runs(block, run_dir):
    script = ("NAMESPACE = {'__name__': 'doc_block'}\n"
              f"BLOCKS = {[(b.name, b.given, b.code) for b in block.chain]!r}\n" + RUNNER)
    env = {**os.environ, "LOGIN_RUN_DIR": str(run_dir)}
    env.pop("CI", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=run_dir.parent, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]


COMPILED = of("python", "compile")


@pytest.mark.parametrize("block", COMPILED, ids=ids(COMPILED))
def test_python_block_compiles_and_its_imports_exist(block):
    assert block.reason, f"{block.name}: say why it cannot run"
    tree = ast.parse(block.code, block.name)
    compile(tree, block.name, "exec")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module \
                and node.module.split(".")[0] == "flask_modular_login":
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}"), f"{block.name}: {node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "flask_modular_login":
                    importlib.import_module(alias.name)


def test_the_quickstart_app_answers_as_the_page_says(login_client):
    import flask_modular_login

    [block] = [b for b in of("python", "run") if b.page == "docs/quickstart.md"]
    namespace = {"__name__": "hello"}
    before = flask_modular_login.login_required.prefix
    try:
        exec(compile(block.code, block.name, "exec"), namespace)
        client = login_client(namespace["app"])
        away = client.get("/")
        assert away.status_code == 302
        assert away.location.startswith("//localhost:8000/login/")
        assert "next=" in away.location
        assert client.get("/", headers={"Accept": "application/json"}).json["error"] \
            == "login_required"
        client.login(user_id="u1", name="127.0.0.1")
        assert client.get("/").text == "Hello, 127.0.0.1!"
    finally:
        flask_modular_login.login_required.prefix = before


# -- sh --------------------------------------------------------------------------------------

SERVER_CASES = set(re.findall(r"^    (\w+)\)$", (ROOT / "server.sh").read_text(), re.MULTILINE))


def commands_in(code: str) -> list[list[str]]:
    """The simple commands of a block: lines joined at '\\', split at | ; && || &."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, "#"
        current: list[str] = []
        for token in lexer:
            if token in {"|", ";", "&&", "||", "&"}:
                commands.append(current)
                current = []
            else:
                current.append(token)
        commands.append(current)
    return [c for c in commands if c]


def check_cli(block: Block, args: list[str]) -> None:
    from flask_modular_login.cli import main

    command: click.Command = main
    path: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token.startswith("-"):
            name = token.split("=", 1)[0]
            options = {o: p for p in command.params for o in (*p.opts, *p.secondary_opts)}
            assert name in options or name == "--help", \
                f"{block.name}: {' '.join(path) or 'the CLI'} has no option {name}"
            param = options.get(name)
            if param is not None and not getattr(param, "is_flag", False) \
                    and "=" not in token and not getattr(param, "count", False):
                i += 1
        elif isinstance(command, click.Group):
            assert token in command.commands, f"{block.name}: no command {' '.join(path)} {token}"
            command = command.commands[token]
            path.append(token)
        i += 1
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, f"{block.name}: {path}: {result.output}"


def check_command(block: Block, argv: list[str]) -> None:
    program = argv[0]
    if program == "sh" and argv[1:2] == ["server.sh"]:
        assert len(argv) > 2 and argv[2] in SERVER_CASES, f"{block.name}: {argv}"
    elif program.endswith("flask-modular-login"):
        check_cli(block, argv[1:])
    elif program.endswith(("python", "python3")) and argv[1:3] == ["-m", "flask_modular_login"]:
        check_cli(block, argv[3:])
    elif program.endswith(("python", "python3")):
        assert (ROOT / argv[1]).is_file(), f"{block.name}: no {argv[1]}"
    else:
        assert shutil.which(program) or (ROOT / program).exists(), f"{block.name}: {program}"


SH = of("sh", "check", "compile")


@pytest.mark.parametrize("block", SH, ids=ids(SH))
def test_sh_block_names_real_commands(block):
    syntax = subprocess.run(["sh", "-n"], input=block.code, capture_output=True, text=True)
    assert syntax.returncode == 0, f"{block.name}: {syntax.stderr}"
    if block.mode == "compile":
        assert block.reason, f"{block.name}: say why the commands are not checked"
        return
    for argv in commands_in(block.code):
        check_command(block, argv)


# -- nginx -----------------------------------------------------------------------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
NGINX_BLOCKS = of("nginx", "check", "compile")


@pytest.mark.parametrize("block", NGINX_BLOCKS, ids=ids(NGINX_BLOCKS))
def test_nginx_block_is_valid_configuration(block, tmp_path):
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (sh server.sh test installs it)")
        pytest.skip("nginx is not installed")
    code = block.code.replace("/var/log/nginx/", f"{tmp_path}/")
    code = code.replace("unix:/path/to/run/uwsgi.sock", f"unix:{tmp_path}/uwsgi.sock")
    first = next(line for line in code.splitlines() if line.strip()
                 and not line.lstrip().startswith("#"))
    in_server = first.lstrip().startswith("location")
    uwsgi_params = Path("/etc/nginx/uwsgi_params")
    if uwsgi_params.exists():
        shutil.copy(uwsgi_params, tmp_path / "uwsgi_params")
    temp = " ".join(f"{kind}_temp_path {tmp_path}/{kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    access_log off; {temp}
    {"" if in_server else code}
    server {{
        listen 127.0.0.1:1;
        {code if in_server else ""}
    }}
}}
""")
    result = subprocess.run([NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"{block.name}: {result.stderr}"


# -- data ------------------------------------------------------------------------------------

DATA = of("json", "check") + of("ini", "check") + of("toml", "check")


@pytest.mark.parametrize("block", DATA, ids=ids(DATA))
def test_data_block_parses(block):
    import json

    if block.lang == "json":
        json.loads(block.code)
    elif block.lang == "ini":
        configparser.ConfigParser().read_string(block.code)
    else:
        import tomllib  # Python 3.11 and later

        tomllib.loads(block.code)


TEXT = of("", "check")


@pytest.mark.parametrize("block", TEXT, ids=ids(TEXT))
def test_json_lines_of_text_blocks_parse(block):
    import json

    for line in block.code.splitlines():
        if line.startswith("{") and line.rstrip().endswith("}"):
            json.loads(line)
