"""Files that hold secrets: the data dir and what fleetgate keeps in it (docs/security.md).

The database holds message texts and webhook settings, the key file the server keys: only
the user fleetgate runs as may read them, whatever the umask. The mode is set explicitly
after creating, since a umask can only take bits away from what ``open`` and ``mkdir`` ask.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) if it does not exist; a new ``path`` is 0700.

    A directory that exists is left as it is: the operator may have chosen its mode.
    """
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process starting at the same time
        path.mkdir(mode=DIR_MODE)
        os.chmod(path, DIR_MODE)


def private_file(path: Path, *, create: bool = True) -> None:
    """Make ``path`` 0600 if this user owns it; create it empty first if ``create``.

    A file that exists is never opened: closing any descriptor of a SQLite database drops
    every POSIX lock this process holds on it, those of its open connections too.
    """
    if create:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    try:
        if path.stat().st_uid == os.getuid():
            os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass  # a -wal or -shm file SQLite removed meanwhile
