"""The WARC writer and reader (crawler/warc.py) on their own: records, rotation, a file
cut off in any place, a write that fails midway, and an independent reader (warcio) accepting
every file."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.warc import (
    ArchiveError,
    ArchiveWriter,
    Exchange,
    archive_files,
    iter_responses,
    read_response,
)

WARCIO = [sys.executable, "-m", "warcio.cli"]


def _exchange(n: int, size: int = 2000) -> Exchange:
    body = (f"<html><body><p>page {n} é</p>" + "x" * size + "</body></html>").encode()
    return Exchange(url=f"http://news.example/a/{n}?utm_source=x", status=200,
                    headers=[("Content-Type", "text/html; charset=utf-8"),
                             ("Content-Encoding", "gzip"), ("ETag", f'"e{n}"')],
                    body=body, request_headers=[("User-Agent", "newscrawl-test"),
                                                ("If-None-Match", '"old"')],
                    source="example", meta={"news_via": "feed", "news_hinted": True})


def path_of(files: list[Path], name: str) -> Path:
    return next(path for path in files if path.name == name or str(path) == name)


def warcio_accepts(path: Path) -> str:
    check = subprocess.run([*WARCIO, "check", "-v", str(path)], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run([*WARCIO, "index", "-f",
                            "warc-type,warc-target-uri,warc-date,warc-payload-digest,offset",
                            str(path)], capture_output=True, text=True, check=False)
    assert index.returncode == 0, index.stderr
    return index.stdout


# ISA-L writes the members at levels 0-3 (3 is the default), zlib at 4-9: the same format.
@pytest.mark.parametrize("level", [0, 3, 6])
def test_records_are_read_back_and_warcio_accepts_every_file(tmp_path: Path,
                                                             level: int) -> None:
    writer = ArchiveWriter(tmp_path, max_bytes=1500, gzip_level=level)
    locations = [writer.write(_exchange(n)) for n in range(6)]
    writer.close()
    files = archive_files(tmp_path)
    assert len(files) > 1  # rotated by size
    assert [loc.file for loc in locations] == sorted(loc.file for loc in locations)
    read = [r for path in files for r in iter_responses(path)]
    assert [r.location for r in read] == locations
    for n, record in enumerate(read):
        assert record.url == f"http://news.example/a/{n}?utm_source=x"
        assert record.status == 200 and record.source == "example"
        assert record.meta == {"news_via": "feed", "news_hinted": True}
        assert record.body == _exchange(n).body
        names = {k.lower() for k, _ in record.headers}
        assert "content-encoding" not in names  # the body is stored decoded
        assert read_response(tmp_path, record.location).body == record.body
        with path_of(files, record.location.file).open("rb") as archive:  # one gzip member
            archive.seek(record.location.offset)
            member = gzip.decompress(archive.read(record.location.length))
        assert member.startswith(b"WARC/1.") and record.body in member
    for path in files:
        index = warcio_accepts(path)
        lines = index.splitlines()
        assert '"warc-type": "warcinfo"' in lines[0]
        assert sum('"warc-type": "response"' in line for line in lines) >= 1
        assert sum('"warc-type": "request"' in line for line in lines) >= 1
        assert all('"warc-payload-digest": "sha1:' in line and '"warc-date"' in line
                   for line in lines if '"response"' in line)


def test_a_file_cut_anywhere_in_its_last_record_is_read_up_to_that_record(
        tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path)
    locations = [writer.write(_exchange(n, size=5000)) for n in range(3)]
    writer.close()
    (path,) = archive_files(tmp_path)
    whole = path.read_bytes()
    last = locations[-1]
    for cut in range(last.offset + 1, last.offset + last.length, 7):  # in its response record
        path.write_bytes(whole[:cut])
        urls = [r.url for r in iter_responses(path)]
        assert len(urls) == 2, cut  # the first two, complete; the cut one not at all
    with pytest.raises(ArchiveError):
        read_response(tmp_path, last)
    path.write_bytes(whole[:last.offset + last.length + 10])  # its request record cut: kept
    assert len(list(iter_responses(path))) == 3
    path.write_bytes(whole[:last.offset] + b"garbage that is no gzip member")
    assert len(list(iter_responses(path))) == 2


def test_a_write_that_fails_leaves_the_file_readable(tmp_path: Path) -> None:
    """An unwritable folder raises ArchiveError; so does a file-size limit hit midway (in a
    child process with RLIMIT_FSIZE), after which the file holds only complete records."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ArchiveError):
        ArchiveWriter(blocker / "archive").open()
    script = (
        "import resource, signal, sys\n"
        "from crawler.warc import ArchiveWriter, ArchiveError\n"
        "from tests.test_archive_files import _exchange\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (12000, 12000))\n"
        "w = ArchiveWriter(sys.argv[1])\n"
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        w.write(_exchange(n, size=3000)); n += 1\n"
        "except ArchiveError as exc:\n"
        "    print(n, exc)\n")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "full")], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    written = int(out.split()[0])
    assert written >= 1 and "File too large" in out
    (path,) = archive_files(tmp_path / "full")
    assert path.stat().st_size <= 12000
    assert len(list(iter_responses(path))) == written
    warcio_accepts(path)


def test_a_writer_that_wrote_no_record_leaves_no_file(tmp_path: Path) -> None:
    """A crawl that fetched nothing opens its file at the start (so an unwritable folder is
    said at once) and removes it at the end: no WARC file that holds only its warcinfo."""
    empty = ArchiveWriter(tmp_path / "empty")
    empty.open()
    assert len(archive_files(tmp_path / "empty")) == 1
    empty.close()
    assert archive_files(tmp_path / "empty") == [] and empty.files == 0
    kept = ArchiveWriter(tmp_path / "kept")
    kept.open()
    kept.write(_exchange(1))
    kept.close()
    (path,) = archive_files(tmp_path / "kept")
    assert kept.files == 1 and len(list(iter_responses(path))) == 1
