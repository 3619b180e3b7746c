"""Which files a run reads, and which it refuses to open: the input folder's security policy.

Archives are copied from many places and may hold symlinks into the rest of the file system,
named pipes and files far too large to be minutes. Such an entry is still listed by `discover`
(so nothing vanishes silently) but `refusal` turns it down before anything opens it, and the
run records the reason as a failures row.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from pipeline.errors import ReadError
from pipeline.isolation import Limits
from pipeline.read import HTML_SUFFIXES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES


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
    for folder, dirs, files in os.walk(src, followlinks=follow_symlinks):
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
    if path.is_symlink() and root.is_dir() and not follow_symlinks:
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
