"""Which files a run reads, and which it refuses to open: the input folder's security policy.

Archives are copied from many places and may hold symlinks into the rest of the file system,
named pipes and files far too large to be minutes. Such an entry is still listed by `discover`
(so nothing vanishes silently) but `refusal` turns it down before anything opens it, and the
run records the reason as a failures row. A folder that cannot be listed is such an entry too.

What the plan saw of a file (its inode and the bytes it hashed, `Planned`) goes with it to the
worker, which opens it without following links and reads it only if it is still that file
(`read_planned`): a file swapped for a link to /etc/passwd after planning is not read.

File names are bytes on Linux; one that is not UTF-8 (`caf\\xe9.txt`, copied from an old Windows
share) cannot be stored as a Parquet string. `source_path` writes its undecodable bytes as
`\\xNN` escapes (`located` finds the file again from that) and the document gets a warning.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import FileChanged, ReadError
from pipeline.isolation import Limits
from pipeline.read import HTML_SUFFIXES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES

_ESCAPED_BYTE = re.compile(r"\\x([0-9a-fA-F]{2})")
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
NAME_WARNING = ("the file name is not valid UTF-8 (an old Windows or Mac encoding): source_path writes its "
                "undecodable bytes as \\xNN; rename the file to UTF-8 (e.g. convmv -f cp1252 -t utf-8) to see the name")


def source_path(path: Path, root: Path) -> str:
    """The path as the tables record it: relative to the input folder, POSIX separators, and any
    byte of the name that is not UTF-8 written as a `\\xNN` escape."""
    rel = path.name if root.is_file() else path.relative_to(root).as_posix()
    if undecodable_name(rel):
        rel = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return rel


def undecodable_name(name: str) -> bool:
    """Whether a file name had bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def located(root: Path, recorded: str) -> Path:
    """The file a `source_path` names under `root`, its `\\xNN` escapes turned back into bytes if need be."""
    if root.is_file():
        return root
    path = root / recorded
    if not path.exists() and _ESCAPED_BYTE.search(recorded):
        raw = _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), recorded)
        path = root / raw
    return path


@dataclass(frozen=True)
class Planned:
    """What the plan saw of a file: which inode, where it led, which bytes (doc_id) if it hashed them."""

    device: int
    inode: int
    target: str  # the real path when planned (a link inside the input folder: its target)
    doc_id: str | None = None


def planned(path: Path, doc_id: str | None = None) -> Planned | None:
    """A file as the plan sees it now; None if it is gone or not a regular file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return Planned(info.st_dev, info.st_ino, os.path.realpath(path), doc_id)


def read_planned(path: Path, plan: Planned | None) -> bytes:
    """The file's bytes, if it is still the file the plan saw: opened without following a link
    (the plan's own target, O_NOFOLLOW), the same inode, and (after reading) the same bytes."""
    target = plan.target if plan is not None else path
    try:
        fd = os.open(target, _OPEN_FLAGS if plan is not None else _OPEN_FLAGS & ~os.O_NOFOLLOW)
    except OSError as exc:
        if plan is not None and os.path.islink(target):
            raise FileChanged("the file was replaced by a symbolic link after the run planned it, and was not read: "
                              "check who changes the input folder, then run again") from exc
        if isinstance(exc, FileNotFoundError):
            raise FileChanged("the file disappeared after the run planned it; run again") from exc
        raise ReadError(f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable") from exc
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError("not a regular file any more (a pipe or device was put in its place); it was not read")
        if plan is not None and (info.st_dev, info.st_ino) != (plan.device, plan.inode):
            raise FileChanged("the file was replaced by another after the run planned it, and was not read: "
                              "run again (if something keeps replacing it, check who changes the input folder)")
        os.set_blocking(fd, True)
        return fh.read()


def discover(src: Path, follow_symlinks: bool = False) -> list[Path]:
    """Source files below `src` in a stable order; hidden files and other formats are left out.

    Symlinked folders are entered only with `follow_symlinks` (each real folder once, so a loop
    of links ends). Without it, a symlinked folder leading out of `src` is listed all the same,
    as are symlinks and named pipes with a source suffix: each then gets a failures row saying
    why it was not read (`refusal`) instead of vanishing silently.
    """
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise FileNotFoundError(f"input folder {src} does not exist")
    root = os.path.realpath(src)
    found: list[Path] = []
    walked: set[str] = set()

    def unlisted(exc: OSError) -> None:
        """A folder that cannot be listed is an entry of its own: it gets a failures row (`refusal`)."""
        if exc.filename is None or Path(exc.filename) == src:
            raise exc
        found.append(Path(exc.filename))

    for folder, dirs, files in os.walk(src, onerror=unlisted, followlinks=follow_symlinks):
        if follow_symlinks and os.path.realpath(folder) in walked:
            dirs.clear()
            continue
        walked.add(os.path.realpath(folder))
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if not follow_symlinks:
            found += [base / d for d in dirs if (base / d).is_symlink()
                      and not Path(os.path.realpath(base / d)).is_relative_to(root)]
        found += [base / f for f in files if not f.startswith(".") and Path(f).suffix.lower() in SUPPORTED_SUFFIXES]
    return sorted(found, key=lambda p: p.relative_to(src).as_posix())


_NOT_REGULAR = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
                stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def refusal(path: Path, root: Path, limits: Limits, follow_symlinks: bool = False) -> ReadError | None:
    """Why `path` must not be opened at all, or None; decided from the directory entry alone.

    Checked in the batch before the file is hashed or read: a named pipe would block the reader
    forever, a symlink out of the input folder would read what the operator did not hand over,
    and a text file of tens of MB would only run into the time limit after minutes of work.
    """
    if path.is_symlink() and root.is_dir() and not follow_symlinks and os.path.exists(path):
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(os.path.realpath(root)):
            what = "folder" if target.is_dir() else "file"
            return ReadError(f"symlink to a {what} outside the input folder ({target}); not followed: "
                             "pass --follow-symlinks to read it")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            return ReadError(f"symlink to {os.readlink(path)}, which does not exist; fix or remove the link")
        return ReadError("the file disappeared before it could be read; run again")
    except OSError as exc:
        return ReadError(f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable")
    if stat.S_ISDIR(info.st_mode):
        try:
            os.listdir(path)
        except OSError as exc:
            return ReadError(f"cannot list the folder ({exc.strerror or exc}); nothing below it was read: give the user "
                             "running minutes read and search access to it (chmod a+rx), then run again")
    kind = _NOT_REGULAR.get(stat.S_IFMT(info.st_mode))
    if kind is not None:
        return ReadError(f"not a regular file but {kind}; minutes reads regular files: copy the content into one")
    if not os.access(path, os.R_OK):
        return ReadError("cannot read the file (permission denied); give the user running minutes read access")
    size_mb = info.st_size / 2**20
    if path.suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES and size_mb > limits.max_text_mb:
        return ReadError(f"the text file is {size_mb:.1f} MB, more than the {limits.max_text_mb:g} MB a text document "
                         "may have (minutes are far smaller: this looks like a dump or many documents joined); "
                         "split it, or raise the limit with --max-text-mb")
    return None
