"""The one cache wrapper (generator/cache.py): a kept result is served only for exactly the code,
library versions and arguments it was computed from; anything else in an entry is a miss."""

from __future__ import annotations

import datetime
import hashlib
import multiprocessing
import pickle
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator import cache
from generator.codegen.format import format_tree

CALLS: list[tuple[object, ...]] = []


def _record(*args: object) -> object:
    CALLS.append(args)
    return {"args": repr(args), "when": datetime.date(2024, 1, 2)}


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("APIGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("APIGEN_NO_CACHE", raising=False)
    CALLS.clear()
    return tmp_path / "cache"


def _stage(
    tmp_path: Path, name: str = "demo", tools: tuple[str, ...] = ("pyyaml",)
) -> cache.Cached[..., object]:
    """A stage that also reads a file of the test's own (a fresh identity each time, as in a
    new process)."""
    code = tmp_path / "stage_code.py"
    if not code.exists():
        code.write_text("VERSION = 1\n")
    return cache.Cached(_record, name, tools, reads=[code])


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_second_call_is_served_from_the_cache(root: Path, tmp_path: Path) -> None:
    first = _stage(tmp_path).run("text", b"bytes", [1, 2.5, None, True], {"b": 1, "a": 2})
    again = _stage(tmp_path).run("text", b"bytes", [1, 2.5, None, True], {"a": 2, "b": 1})
    assert (first.fresh, again.fresh) == (True, False)
    assert again.value == first.value == {
        "args": repr(("text", b"bytes", [1, 2.5, None, True], {"b": 1, "a": 2})),
        "when": datetime.date(2024, 1, 2),
    }
    assert again.key == first.key and len(CALLS) == 1
    assert [p.name for p in _entries(root)] == [first.key]


@pytest.mark.parametrize("other", [
    ("text2", b"bytes", [1], {"a": 1}),
    ("text", b"bytes2", [1], {"a": 1}),
    ("text", b"bytes", [1, 2], {"a": 1}),
    ("text", b"bytes", ["1"], {"a": 1}),
    ("text", b"bytes", [True], {"a": 1}),
    ("text", b"bytes", [1], {"a": 2}),
    ("text", b"bytes", [1], {"b": 1}),
    ("text", b"bytes", [[1]], {"a": 1}),
    ("text", b"bytes", 1, {"a": 1}),
    ("textbytes", b"", [1], {"a": 1}),
])
def test_any_other_argument_misses(root: Path, tmp_path: Path, other: tuple[object, ...]) -> None:
    stage = _stage(tmp_path)
    stage("text", b"bytes", [1], {"a": 1})
    stage(*other)
    assert len(CALLS) == 2


def test_an_edit_to_the_stage_code_or_a_file_it_reads_misses(root: Path, tmp_path: Path) -> None:
    _stage(tmp_path)("x")
    (tmp_path / "stage_code.py").write_text("VERSION = 2\n")
    _stage(tmp_path)("x")
    assert len(CALLS) == 2
    module = cache.stage("demo")(_record)  # a decorated function's code is its module
    assert module.code == (Path(__file__),)


def test_another_library_python_or_apigen_version_misses(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stage(tmp_path)("x")
    with monkeypatch.context() as other:
        other.setattr(cache, "version", lambda tool: "999")
        _stage(tmp_path)("x")
    with monkeypatch.context() as other:
        other.setattr(cache.sys, "version", "2.7.18")
        _stage(tmp_path)("x")
    with monkeypatch.context() as other:
        other.setattr(cache, "__version__", "99.0")
        _stage(tmp_path)("x")
    _stage(tmp_path, name="other")("x")
    _stage(tmp_path, tools=())("x")
    _stage(tmp_path)("x")
    assert len(CALLS) == 6


@dataclass
class _Parsed:
    cache_key: str


def test_a_kept_result_stands_in_by_its_key(root: Path, tmp_path: Path) -> None:
    stage = _stage(tmp_path)
    stage(_Parsed("k1"))
    stage(_Parsed("k1"))
    stage(_Parsed("k2"))
    assert len(CALLS) == 2
    with pytest.raises(TypeError):  # unkeyed: its identity would be missing from the key
        stage(_Parsed(""))
    with pytest.raises(TypeError):
        stage(object())
    with pytest.raises(TypeError):
        stage("x", flag=True)


def test_only_plain_data_is_kept(root: Path, tmp_path: Path) -> None:
    stage = cache.Stage("demo", [tmp_path / "stage_code.py"])
    (tmp_path / "stage_code.py").write_text("")
    with pytest.raises(TypeError):
        stage.store(_Parsed("k"), "x")
    stage.store({"s": {1, 2}, "t": (1, "a"), "d": datetime.datetime(2024, 1, 2, 3, 4, 5,
                                                                   tzinfo=datetime.UTC)}, "y")
    assert stage.lookup("y") == {"s": {1, 2}, "t": (1, "a"),
                                 "d": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)}


def _damaged(entry: bytes, other: bytes) -> list[bytes]:
    return [
        b"",
        entry[:-1],  # truncated
        entry[: len(entry) // 2],
        entry[:-1] + bytes([entry[-1] ^ 1]),  # one bit of the value
        entry.replace(b"('x',)", b"('z',)"),  # still a value, but not the one kept
        entry.replace(b"apigen-cache 1", b"apigen-cache 0"),  # another format
        other,  # the whole entry of another key
        b'{"imports": [], "classes": "", "rebuilds": []}',  # foreign
        pickle.dumps({"args": ["x"]}),
    ]


@pytest.mark.parametrize("case", range(9))
def test_a_damaged_or_foreign_entry_is_a_miss_and_is_replaced(
    root: Path, tmp_path: Path, case: int
) -> None:
    stage = _stage(tmp_path)
    key = stage.run("x").key
    other = stage.run("y").key
    (entry,) = [p for p in _entries(root) if p.name == key]
    entry.write_bytes(_damaged(entry.read_bytes(), (entry.parent.parent / other[:2] / other)
                               .read_bytes())[case])
    assert stage.run("x").fresh and len(CALLS) == 3
    assert not stage.run("x").fresh and len(CALLS) == 3  # the entry was written anew


class _Hostile:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


def test_a_well_formed_entry_never_runs_code(root: Path, tmp_path: Path) -> None:
    stage = _stage(tmp_path)
    key = stage.run("x").key
    (entry,) = _entries(root)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Hostile(str(marker)))
    sealed = cache.encode_entry(key, "placeholder")
    head = sealed[: sealed.index(key.encode()) + len(key)]
    entry.write_bytes(head + hashlib.sha256(payload).digest() + payload)
    assert stage.run("x").fresh
    assert not marker.exists()


def test_the_cache_off_keeps_nothing(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APIGEN_NO_CACHE", "1")
    stage = _stage(tmp_path)
    assert stage.run("x").fresh and stage.run("x").fresh
    stage.store("value", "y")
    assert stage.lookup("y") is None and not root.exists() and len(CALLS) == 2


def test_a_batch_gives_the_kept_results_and_keeps_the_others(root: Path, tmp_path: Path) -> None:
    stage = _stage(tmp_path)
    stage.store("kept", "b")
    batch = stage.batch([("a",), ("b",), ("c",)])
    assert batch.missing == [("a",), ("c",)]
    assert batch.complete(["A", "C"]) == ["A", "kept", "C"]
    assert stage.batch([("a",), ("b",), ("c",)]).missing == []
    assert stage.lookup("c") == "C"


def _writer(stage: cache.Stage, rounds: int) -> None:
    for n in range(rounds):
        stage.store({"same": "value", "n": list(range(2000))}, "key")
        stage.store({"other": n}, "key", n)


def test_writes_at_the_same_time_never_leave_half_an_entry(root: Path, tmp_path: Path) -> None:
    """Threads and forked processes store the same entries while a reader reads them: a read
    is a miss or the whole value, and no temporary file is left behind."""
    (tmp_path / "stage_code.py").write_text("")
    stage = cache.Stage("demo", [tmp_path / "stage_code.py"])
    value = {"same": "value", "n": list(range(2000))}
    threads = [threading.Thread(target=_writer, args=(stage, 50)) for _ in range(4)]
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_writer, args=(stage, 50)) for _ in range(2)]
    for worker in [*threads, *processes]:
        worker.start()
    seen = [stage.lookup("key") for _ in range(300)]
    for thread in threads:
        thread.join()
    for process in processes:
        process.join()
        assert process.exitcode == 0
    assert all(read in (None, value) for read in seen)
    assert stage.lookup("key") == value
    assert len(_entries(root)) == 51  # no temporary file left


def test_a_change_to_the_ruff_settings_misses(root: Path) -> None:
    plain = "[tool.ruff]\nline-length = 100\n"
    single = f"{plain}[tool.ruff.format]\nquote-style = 'single'\n"
    for settings, formatted in ((plain, 'x = "a"\n'), (single, "x = 'a'\n"),
                                (plain, 'x = "a"\n')):
        files = {"pkg/pyproject.toml": settings, "pkg/pkg/mod.py": "x = 'a'\n"}
        assert format_tree(files)["pkg/pkg/mod.py"] == formatted
