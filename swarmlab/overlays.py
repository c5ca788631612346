"""The one command that makes a lab's overlay network: `up` makes the scenario's, a
lesson's encrypted detour makes one of its own, both labelled alike (the lab owns it, its
role, what encryption was asked and why it is what it is)."""

from __future__ import annotations

from typing import Sequence, Tuple

from . import labels as L


def create_argv(
    name: str,
    lab: str,
    role: str,
    encrypted: bool,
    asked: str,
    reason: str,
    attachable: bool = True,
    internal: bool = False,
    subnet: str = "",
    labels: Sequence[Tuple[str, str]] = (),
) -> list:
    """`docker network create` of an overlay, as an argument list (quoted at the exit)."""
    return [
        "docker",
        "network",
        "create",
        "-d",
        "overlay",
        "--attachable" if attachable else None,
        "--internal" if internal else None,
        ["--subnet", subnet] if subnet else None,
        ["--opt", "encrypted"] if encrypted else None,
        [["--label", f"{k}={v}"] for k, v in labels],
        ["--label", f"{L.LAB}={lab}", "--label", f"{L.ROLE}={role}"],
        ["--label", f"{L.ENCRYPTION_REQUESTED}={asked}", f"--label={L.ENCRYPTION_REASON}={reason}"],
        name,
    ]
