"""Files the tool writes, as root, in folders a user may have prepared: never through a
link someone planted, never readable by others, never a file it did not write removed.

- private_dir: a folder of ours (made 0700 with its missing parents); a link is refused;
- write_file: a new file beside the old (O_EXCL|O_NOFOLLOW, 0600) moved over it at once,
  so a link planted at the name is replaced, never written through;
- read_regular: a file read only if it is a regular file (no link, device or FIFO), bounded;
- links_in: what in a folder is a link, for the commands that refuse such a folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import List, Union

from .errors import ConfigError, Problem

Data = Union[str, bytes]


def private_dir(path: Path) -> Path:
    """path as a folder of ours: made 0700 with each missing parent; refused (exit 2) if it
    is a link or not a folder. Parents that exist are the user's choice, links or not."""
    path = Path(path)
    missing = []
    probe = path
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    if not missing and (path.is_symlink() or not path.is_dir()):
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "",
                    "is a link or not a folder: swarmlab writes only into a "
                    "folder of its own; give a new or empty folder",
                )
            ],
            "the output folder",
        )
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:  # made at the same moment by another command of ours
            pass
    return path


def write_file(path: Path, data: Data, mode: int = 0o600) -> Path:
    """data as path, whole or not at all, never through a link planted at path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        os.unlink(tmp)  # a stale one of this pid (or a link planted there): never opened
    except FileNotFoundError:
        pass
    fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def read_regular(path: Path, limit: int) -> bytes:
    """A regular file's bytes (at most limit), refusing links, devices and FIFOs (OSError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path} is larger than {limit} bytes")
    return data


def links_in(folder: Path) -> List[str]:
    """The names in folder that are links (a folder we write into must hold none)."""
    if not folder.is_dir():
        return []
    return sorted(e.name for e in os.scandir(folder) if e.is_symlink())
