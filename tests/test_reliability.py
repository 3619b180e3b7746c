"""Issue 15: failures stand until resolved, files are read as planned, runs end in words.

- A failure that may pass (time limit, a worker killed from outside) is tried again by the next
  run; one that would repeat is skipped but still counted: the exit code is 1 while any stands,
  and `minutes failures` lists them. Other limits try a failed file again.
- A file swapped for a link after planning is not read; a folder that cannot be listed is a row
  of its own and hides nothing from `--prune`.
- Ctrl-C, SIGTERM, a full disk and an unwritable output end with one line, their own exit code,
  the lock released, and a rerun that finishes the work (tables as an uninterrupted run's).
- Nothing is written into the install folder (no bytecode from the workers).
"""
from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.isolation import Limits, run_isolated
from tests.conftest import DEV, output_rows
from tests.test_malformed import CATALOG, FONT, PAGES, TEXT, page, raw_pdf, stream

ROOT = Path(__file__).resolve().parent.parent
LOOP_PDF = raw_pdf(CATALOG, PAGES, page(contents=6), stream(TEXT), FONT, b"7 0 R", b"6 0 R")  # hangs pdfminer
PRELOAD = (__name__,)


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args])
    return code, out.getvalue(), err.getvalue()


def copy_dev(src: Path, names: list[str]) -> None:
    src.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(DEV / name, src / name)


TEXTS = sorted(p.name for p in DEV.glob("dev*.txt"))


# --------------------------------------------------------------------------- failures stand


def test_a_failure_that_may_pass_is_tried_again_and_one_that_would_repeat_stands(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    copy_dev(src, TEXTS[:2])
    (src / "hangs.pdf").write_bytes(LOOP_PDF)
    (src / "binary.txt").write_bytes(bytes(range(256)) * 100)
    args = ("ingest", str(src), "--out", str(out), "--quiet", "--engine", "pdfplumber", "--timeout", "3")
    code, stdout, _ = cli(*args)
    assert code == 1 and "2 standing (2 from this run)" in stdout
    failures = pd.read_parquet(out / "failures").set_index("source_path")
    assert failures.loc["hangs.pdf", "retry"] and failures.loc["hangs.pdf", "error_type"] == "Timeout"
    assert not failures.loc["binary.txt", "retry"]
    assert failures.loc["binary.txt", "limits"] == Limits(timeout=3).key()

    code, stdout, _ = cli(*args)  # the timeout is tried again; the binary file is not, but it stands
    assert code == 1, stdout
    assert "1 failed, 3 unchanged and skipped" in stdout and "2 standing (1 from this run)" in stdout

    code, stdout, _ = cli("failures", "--out", str(out))
    assert code == 1
    assert "2 failure(s) stand" in stdout and "- binary.txt  [read, ReadError" in stdout
    assert "tried again by the next run" in stdout and "when the file, the extractor version or the limits change" in stdout

    code, stdout, _ = cli(*args[:-1], "4")  # other limits: the binary file is tried again too
    assert code == 1 and "2 failed, 2 unchanged and skipped" in stdout

    (src / "hangs.pdf").unlink()
    (src / "binary.txt").write_bytes((DEV / TEXTS[2]).read_bytes())  # fixed: new bytes, read, failure gone
    code, stdout, _ = cli(*args, "--prune")
    assert code == 0, stdout
    assert cli("failures", "--out", str(out))[:2] == (0, f"no failures stand in {out}\n")


def killed(kind: str, on_stage: Callable[[str], None]) -> str:
    """A task for a worker: be killed as from outside (SIGKILL, SIGTERM), or crash (SIGSEGV)."""
    on_stage("extract")
    os.kill(os.getpid(), getattr(signal, kind))
    time.sleep(30)
    return kind


def test_a_worker_killed_from_outside_is_not_blamed_on_the_file() -> None:
    outcomes = list(run_isolated(killed, [("SIGKILL",), ("SIGTERM",), ("SIGSEGV",)], workers=1,
                                 limits=Limits(timeout=20), preload=PRELOAD))
    kill, term, segv = outcomes
    for outside in (kill, term):
        assert outside.error_type == "WorkerKilled"
        assert "killed from outside" in outside.reason and "the next run tries it again" in outside.reason
        assert "damaged" not in outside.reason
    assert segv.error_type == "WorkerDied" and "probably damaged" in segv.reason


def test_reprocess_and_serve_take_the_limits_ingest_takes() -> None:
    from pipeline.cli import build_parser

    for command in (["reprocess"], ["serve", "src", "--cron", "0 3 * * *"]):
        args = build_parser().parse_args([*command, "--timeout", "7", "--max-memory", "900", "--max-text-mb", "3",
                                          "--redact-contacts"])
        assert (args.timeout, args.max_memory, args.max_text_mb, args.redact_contacts) == (7, 900, 3, True)


# --------------------------------------------------------------------------- files as planned


def test_a_file_swapped_for_a_link_after_planning_is_not_read(tmp_path: Path) -> None:
    from pipeline.run import plan_batch, run_plan
    from pipeline.store import Store

    src = tmp_path / "src"
    copy_dev(src, TEXTS[:2])
    secret = src / ".secret.txt"  # hidden: never planned; a link to it stays inside SRC (no refusal)
    secret.write_text("SALAINEN 040 123 4567 root:x:0:0\n" * 20, encoding="utf-8")
    store = Store(tmp_path / "out")
    with store.lock():
        plan = plan_batch(src, store)
        swapped = src / TEXTS[0]
        swapped.unlink()
        swapped.symlink_to(secret)  # after planning, before reading
        (src / TEXTS[1]).write_bytes((DEV / TEXTS[1]).read_bytes() + b"\n# changed\n")  # other bytes, same inode
        summary = run_plan(plan, store, isolate=False)
    assert summary.failed == 2
    failures = pd.read_parquet(tmp_path / "out" / "failures").set_index("source_path")
    assert "replaced by a symbolic link" in failures.loc[TEXTS[0], "reason"]
    assert "bytes changed after the run hashed them" in failures.loc[TEXTS[1], "reason"]
    assert failures.retry.all() and set(failures.error_type) == {"FileChanged"}
    assert "SALAINEN" not in " ".join(pd.read_parquet(tmp_path / "out" / "pages").text)


def test_a_folder_that_cannot_be_listed_is_a_row_and_hides_nothing_from_prune(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    copy_dev(src, TEXTS[:1])
    copy_dev(src / "vanha", TEXTS[1:3])
    assert cli("ingest", str(src), "--out", str(out), "--quiet")[0] == 0
    locked = str(src / "vanha")
    scandir, listdir = os.scandir, os.listdir

    def refuse(real: Callable) -> Callable:
        def call(path: object = ".") -> object:
            if os.fspath(path) == locked:
                raise PermissionError(errno.EACCES, "Permission denied", locked)
            return real(path)
        return call

    monkeypatch.setattr(os, "scandir", refuse(scandir))  # as chmod 000 does for a user who is not root
    monkeypatch.setattr(os, "listdir", refuse(listdir))
    code, stdout, _ = cli("ingest", str(src), "--out", str(out), "--quiet", "--prune")
    assert code == 1 and "vanished" not in stdout
    failures = pd.read_parquet(out / "failures")
    assert failures.source_path.tolist() == ["vanha"]
    assert "cannot list the folder" in failures.reason[0] and "chmod a+rx" in failures.reason[0]
    assert {f"vanha/{n}" for n in TEXTS[1:3]} <= set(pd.read_parquet(out / "documents").source_path)
    monkeypatch.undo()
    assert cli("ingest", str(src), "--out", str(out), "--quiet")[0] == 0  # listed again: the row goes
    assert len(pd.read_parquet(out / "failures")) == 0


# --------------------------------------------------------------------------- endings


def _corpus(src: Path, copies: int = 24) -> None:
    src.mkdir()
    for i in range(copies):
        name = TEXTS[i % len(TEXTS)]
        (src / f"{i:03d}_{name}").write_bytes((DEV / name).read_bytes() + f"\n\n# kopio {i}\n".encode())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    src = tmp_path_factory.mktemp("endings") / "src"
    _corpus(src)
    out = src.parent / "reference"
    assert cli("ingest", str(src), "--out", str(out), "--quiet")[0] == 0
    return src, output_rows(out)


@pytest.mark.parametrize("sig, code, words", [(signal.SIGINT, 130, "interrupted (Ctrl-C)"),
                                              (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_ctrl_c_and_sigterm_end_in_one_line_and_a_rerun_finishes(reference: tuple[Path, dict], tmp_path: Path,
                                                                 sig: int, code: int, words: str) -> None:
    src, want = reference
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "ingest", str(src), "--out", str(out), "--quiet",
                            "--flush-every", "3"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    ends = time.monotonic() + 120  # safety limit only
    while not (out / "snapshot.json").exists() and run.poll() is None and time.monotonic() < ends:
        time.sleep(0.02)
    assert run.poll() is None, "the run ended before it could be stopped"
    run.send_signal(sig)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == code, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0] and "run the same command again" in lines[0]
    assert not (out / ".lock").exists() and not list(out.glob("*/.tmp-*"))
    assert cli("ingest", str(src), "--out", str(out), "--quiet")[0] == 0
    assert output_rows(out) == want


def test_a_full_disk_ends_with_exit_4_and_a_rerun_finishes(reference: tuple[Path, dict], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.store

    src, want = reference
    out = tmp_path / "out"
    write = pipeline.store._write_temp
    calls = []

    def full(*args: object, **kwargs: object) -> Path:
        calls.append(args)
        if len(calls) > 6:  # the first commit's files fit, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", str(out / "decisions"))
        return write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline.store, "_write_temp", full)
    code, _, stderr = cli("ingest", str(src), "--out", str(out), "--quiet", "--flush-every", "4")
    assert code == 4, stderr
    assert "no space left to write" in stderr and "free space" in stderr and "Traceback" not in stderr
    assert not (out / ".lock").exists() and not (out / ".tmp-staging").exists()
    monkeypatch.undo()
    assert cli("ingest", str(src), "--out", str(out), "--quiet")[0] == 0
    assert output_rows(out) == want


@contextlib.contextmanager
def _unwritable(folder: Path) -> Iterator[None]:
    """A folder no one may create anything in: immutable for root (for whom chmod stops nothing), else 0555."""
    folder.mkdir()
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)]).returncode:
            pytest.skip("running as root without chattr +i here: no folder is unwritable for root")
        undo = ["chattr", "-i", str(folder)]
    else:
        folder.chmod(0o555)
        undo = ["chmod", "755", str(folder)]
    try:
        yield
    finally:
        subprocess.run(undo, check=True)


def test_an_unwritable_output_ends_with_exit_5(tmp_path: Path) -> None:
    src, parent = tmp_path / "src", tmp_path / "readonly"
    copy_dev(src, TEXTS[:1])
    with _unwritable(parent):
        code, _, stderr = cli("ingest", str(src), "--out", str(parent / "out"), "--quiet")
    assert code == 5, stderr
    assert "cannot write the output folder" in stderr and "write access" in stderr and "Traceback" not in stderr


def test_workers_write_no_bytecode_into_the_install_folder(tmp_path: Path) -> None:
    """The package copied without __pycache__ and run with -B (the batch's own choice): the workers,
    started with -I (which ignores PYTHONDONTWRITEBYTECODE), wrote .pyc files there before."""
    install = tmp_path / "install"
    for package in ("pipeline", "extractors"):
        shutil.copytree(ROOT / package, install / package, ignore=shutil.ignore_patterns("__pycache__"))
    src = tmp_path / "src"
    copy_dev(src, TEXTS[:1])
    env = {**os.environ, "PYTHONPATH": str(install)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run([sys.executable, "-B", "-m", "pipeline.cli", "ingest", str(src), "--out",
                           str(tmp_path / "out"), "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert not list(install.rglob("*.pyc")), sorted(str(p) for p in install.rglob("*.pyc"))[:5]


@pytest.mark.parametrize("before", [b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n", None])
def test_a_zero_page_pdf_reads_the_same_whatever_pdfium_read_before(before: bytes | None, tmp_path: Path) -> None:
    """pdfium sets no error for an empty page tree, so it showed the last document's (a damaged or an
    encrypted PDF's): the reason depended on which document the worker had read before."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    from pipeline.errors import ReadError
    from pipeline.read.pdf import read_pdf
    from tests.test_malformed import MINUTES, reportlab_pdf

    if before is None:
        reportlab_pdf(tmp_path / "locked.pdf", text=MINUTES, encrypt=StandardEncryption("salasana", "owner"))
        before = (tmp_path / "locked.pdf").read_bytes()
    with pytest.raises(ReadError):
        read_pdf(before, "pypdfium2")
    assert read_pdf(raw_pdf(CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"), "pypdfium2") == (
        [], ["the PDF has no pages"])
