"""docs/auditing.md shows real commands and their real output: this test runs them again.

Each ```console block holds ``$ command`` lines, each followed by what it printed (stdout, then
stderr). The commands run in order in one folder holding a fresh demo store; ``$ export`` lines
set the environment for the ones after. Digests, HMACs and times change on every run and are
compared as ``<digest>`` and ``<time>``. After an intended change, rewrite the outputs with
``DPLEDGER_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "auditing.md"
BIN = Path(sys.executable).parent
BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)
VOLATILE = (
    (re.compile(r"\b[0-9a-f]{64}\b"), "<digest>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<time>"),
)


def normalise(text: str) -> str:
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def _commands(block: str) -> list[tuple[str, str]]:
    """The block's ``(command, output)`` pairs."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif pairs:
            pairs[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in pairs]


def _run(command: str, folder: Path, env: dict[str, str]) -> str:
    if command.startswith("export "):
        name, _, value = command.removeprefix("export ").partition("=")
        env[name] = value
        return ""
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"`{command}` exited {done.returncode}: {done.stderr}"
    return (done.stdout + done.stderr).rstrip("\n")


def test_every_command_in_the_auditing_guide_prints_what_the_guide_shows(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPLEDGER_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    made = subprocess.run(
        ["dpledger", "demo", "--store", "dpledger-demo.sqlite"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    text = DOC.read_text(encoding="utf-8")
    update = bool(os.environ.get("DPLEDGER_UPDATE_GOLDEN"))
    rewritten: list[str] = []
    mismatches: list[str] = []
    for block in BLOCK.findall(text):
        lines = []
        for command, shown in _commands(block):
            printed = _run(command, tmp_path, env)
            lines.append(f"$ {command}")
            if printed:
                lines.append(normalise(printed))
            if normalise(printed) != normalise(shown):
                mismatches.append(
                    f"$ {command}\n--- the guide shows:\n{shown}\n--- it printed:\n{printed}"
                )
        rewritten.append("\n".join(lines) + "\n")
        assert all(shlex.split(c) for c, _ in _commands(block))
    if update:
        parts = BLOCK.split(text)
        # split() with one group alternates text and block bodies: replace the bodies.
        for i, body in enumerate(rewritten):
            parts[2 * i + 1] = f"```console\n{body}```"
        DOC.write_text("".join(parts), encoding="utf-8")
        return
    assert not mismatches, "docs/auditing.md is out of date:\n\n" + "\n\n".join(mismatches)
