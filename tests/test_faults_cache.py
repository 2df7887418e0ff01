"""Fault suite, the graph cache (issue 15): it can only save time, never cost a run.

Each damaged file of each kind is discarded with one warning and rebuilt; a cache folder that
cannot be used is a warning; ``--no-cache`` and ``--cache-dir`` hold for every graph, the graphs
of selections included; writers never share a temporary name.
"""

from __future__ import annotations

import errno
import json
import logging
import random
import threading

import pytest

from lombardy_districts.io import files, graph
from lombardy_districts.io.files import write_atomic
from lombardy_districts.io.graph import contiguity_graph
from lombardy_districts.model.territory import Territory
from tests.conftest import grid_frame
from tests.faults import environment, grid_files, run, run_process


def _half(good: bytes, checksum: bool) -> bytes:
    record = json.loads(good)
    record["edges"] = record["edges"][: len(record["edges"]) // 2]
    if checksum:  # a file of exactly the right shape, consistent with itself, but half the graph
        record["sha256"] = graph._content_hash(record)
    return json.dumps(record).encode()


def _changed(good: bytes, **changes) -> bytes:
    return json.dumps({**json.loads(good), **changes}).encode()


DAMAGE = {
    "truncated": lambda good: good[: len(good) // 2],
    "random bytes": lambda good: bytes(random.Random(15).randrange(256) for _ in range(3000)),
    "empty": lambda good: b"",
    "another JSON object": lambda good: b'{"a": 1}',
    "a bare edge list (the old format)": lambda good: json.dumps(json.loads(good)["edges"]).encode(),
    "half the edges": lambda good: _half(good, checksum=False),
    "half the edges, checksum redone": lambda good: _half(good, checksum=True),
    "another version": lambda good: _changed(good, version=1),
    "another territory's fingerprint": lambda good: _changed(good, key="0" * 64),
    "an edge to an unknown municipality": lambda good: _changed(good, edges=[["000001", "999999", 1.0, False, 0.0]]),
}


def _cache_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "graph cache" in r.getMessage()]


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_cache_file_is_discarded_with_one_warning_and_rebuilt(tmp_path, caplog, damage):
    gdf = grid_frame(4, 5, 10)
    fresh = contiguity_graph(gdf, cache=tmp_path)
    [path] = tmp_path.glob("graph-*.json")
    good = path.read_bytes()
    path.write_bytes(DAMAGE[damage](good))
    with caplog.at_level(logging.WARNING):
        again = contiguity_graph(gdf, cache=tmp_path)
    assert sorted(again.edges) == sorted(fresh.edges)  # the same graph, built again
    [warning] = _cache_warnings(caplog)  # one line, naming the file
    assert "discarded" in warning and str(path) in warning
    assert path.read_bytes() == good  # rebuilt in the cache
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        contiguity_graph(gdf, cache=tmp_path)
    assert not _cache_warnings(caplog)  # and read back silently


def test_a_damaged_cache_file_does_not_stop_the_command(tmp_path):
    """As an operator meets it: the truncated cache file of the whole command, in a process of its own."""
    data = grid_files(tmp_path)
    cache = tmp_path / "cache"
    first = run_process(["data", *data, "--cache-dir", cache, "--json"])
    [path] = cache.glob("graph-*.json")
    path.write_bytes(path.read_bytes()[:100])
    second = run_process(["data", *data, "--cache-dir", cache, "--json"])
    assert second.returncode == 0 and json.loads(second.stdout) == json.loads(first.stdout)
    assert second.stderr.count("graph cache") == 1 and "not valid JSON" in second.stderr


@pytest.mark.parametrize("where", ["a folder where the file goes", "a file where the folder goes"])
def test_a_cache_that_cannot_be_used_is_a_warning(tmp_path, caplog, where):
    gdf = grid_frame(2, 3, 10)
    folder = tmp_path / "cache"
    if where == "a file where the folder goes":
        folder.write_text("not a folder")
    else:
        contiguity_graph(gdf, cache=folder)
        [path] = folder.glob("graph-*.json")
        path.unlink()
        path.mkdir()
    with caplog.at_level(logging.WARNING):
        built = contiguity_graph(gdf, cache=folder)
    assert built.number_of_edges() == 7
    [warning] = _cache_warnings(caplog)  # one line: the cache is not read, and not written either
    assert "without the cache" in warning


def test_a_full_cache_disk_is_a_warning(tmp_path, caplog, monkeypatch):
    def full(path):  # what fsync reports when the disk filled while the file was written
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_sync", full)
    with caplog.at_level(logging.WARNING):
        built = contiguity_graph(grid_frame(2, 3, 10), cache=tmp_path)
    assert built.number_of_edges() == 7
    [warning] = _cache_warnings(caplog)
    assert "graph cache not saved (no space left on device while writing" in warning
    assert not list(tmp_path.iterdir())  # no half file, no temporary file


def test_selections_build_their_graphs_with_the_territory_s_cache_setting(lombardy, tmp_path, monkeypatch):
    default = tmp_path / "default"
    monkeypatch.setenv("LOMBARDY_DISTRICTS_CACHE", str(default))
    lodi = lombardy.municipalities.index[lombardy.municipalities["province"] == "Lodi"]
    Territory(lombardy.municipalities, lombardy.graph, cache=False).subset(lodi)
    assert not default.exists()  # --no-cache: nothing written anywhere
    mine = tmp_path / "mine"
    part = Territory(lombardy.municipalities, lombardy.graph, cache=mine).subset(lodi)
    assert part.cache == mine and len(list(mine.glob("graph-*.json"))) == 1  # --cache-dir: there
    assert part.subset(lodi[:10]).cache == mine and len(list(mine.glob("graph-*.json"))) == 2
    assert not default.exists()


def test_no_cache_on_the_command_line_writes_no_cache_for_a_selection(tmp_path):
    env = environment(tmp_path)
    done = run_process(["propose", "--province", "Lodi", "--no-cache", "--solver", "heuristic", "--time-limit", "1",
                        "--no-map", "--out", tmp_path / "out"], env=env)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "default-cache").exists()


def test_parallel_writers_never_share_a_temporary_name(tmp_path):
    """Two processes building the same graph at once: both finish, the file is whole (unique names)."""
    target = tmp_path / "graph.json"
    started, release = threading.Event(), threading.Event()
    errors = []

    def slow(path):
        path.write_text("slow writer")
        started.set()
        release.wait(10)

    def write_slowly():
        try:
            write_atomic(target, slow)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion below
            errors.append(exc)

    thread = threading.Thread(target=write_slowly)
    thread.start()
    started.wait(10)
    write_atomic(target, lambda p: p.write_text("fast writer"))  # finishes while the other is half way
    assert target.read_text() == "fast writer"
    release.set()
    thread.join(10)
    assert not errors and target.read_text() == "slow writer"  # each rename put a whole file in place
    assert [p.name for p in tmp_path.iterdir()] == ["graph.json"]


def test_a_full_cache_disk_does_not_stop_a_command(tmp_path, capsys, monkeypatch):
    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_sync", full)
    code, out, err = run(["data", *grid_files(tmp_path), "--cache-dir", tmp_path / "cache", "--json"], capsys)
    assert code == 0 and json.loads(out)["municipalities"] == 20
