"""A workflow module's bytecode, kept in memory across the sandbox's runs (沙箱模块字节码).

The sandbox imports a workflow's module afresh for every run it takes up (a new instance: a
case begun, resumed after the cache let it go, continued as new), so that no run sees another's
module state. Python's import reads such a module's bytecode from its ``__pycache__`` file when
one is there, and compiles the source when none is: where bytecode files are not written
(``PYTHONDONTWRITEBYTECODE``, a read-only tree, a package installed without them), every run
compiled the whole case module again, 91 against 35 million instructions for creating its
instance with a bytecode file (bench/RESULTS.md, tenth session).

``keep_module_code`` puts a finder before the path finder that, only while a sandbox imports
(``workflow.unsafe.in_sandbox()``, per thread), asks the finders after it as the import would
and hands a source module they find a loader that compiles the file's source once per worker
process and keeps the result as a bytecode file would (marshalled): each import of an unchanged
source loads a fresh code object from it, as from a ``__pycache__`` file, so each run's module,
functions and classes are its own as before. (One code object shared by every run cost more
than loading a fresh one, 37.1 against 35.4 million instructions an instance: the interpreter
specialises a code object for the globals it last ran with, and every run has its own.) A file
whose modification time or size changed (what a bytecode file's header is checked by) is
compiled again. Imports outside a sandbox, and every module not loaded from its source file
(extension modules, namespace packages), are found and loaded as always.
"""

from __future__ import annotations

import marshal
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader
from types import CodeType, ModuleType

from temporalio import workflow

# a source file's path -> (its modification time and size when last compiled, the code
# compiled from it, marshalled), as a bytecode file's header keeps them
_compiled: dict[str, tuple[tuple[float, int], bytes]] = {}
_installing = threading.Lock()


class KeptCodeLoader(SourceFileLoader):
    """A source file's loader that compiles a source once per worker process."""

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        stats = self.path_stats(path)
        stamp = (float(stats["mtime"]), int(stats["size"]))
        kept = _compiled.get(path)
        if kept is not None and kept[0] == stamp:
            code: CodeType = marshal.loads(kept[1])
            return code
        code = self.source_to_code(self.get_data(path), path)
        _compiled[path] = (stamp, marshal.dumps(code))
        return code


class SandboxCodeFinder:
    """The path finder's answer, with a source module's loader keeping its code, for imports
    made inside a workflow's sandbox; no answer elsewhere (the path finder gives it)."""

    @classmethod
    def find_spec(
        cls,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if not workflow.unsafe.in_sandbox():
            return None
        spec = _found_after(cls, fullname, path, target)
        if spec is None or type(spec.loader) is not SourceFileLoader:
            return spec
        spec.loader = KeptCodeLoader(spec.loader.name, spec.loader.path)
        return spec


def _found_after(
    finder: object, fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> ModuleSpec | None:
    """The spec the finders after ``finder`` give, in their order, as the import would take."""
    finders: list[object] = list(sys.meta_path)
    after = finders.index(finder) + 1 if finder in finders else 0
    for later in finders[after:]:
        find = getattr(later, "find_spec", None)
        spec = find(fullname, path, target) if find is not None else None
        if spec is not None:
            return spec
    return None


def keep_module_code() -> None:
    """Put ``SandboxCodeFinder`` before the path finder, once per process."""
    with _installing:
        if SandboxCodeFinder in sys.meta_path:
            return
        at = sys.meta_path.index(PathFinder) if PathFinder in sys.meta_path else len(sys.meta_path)
        sys.meta_path.insert(at, SandboxCodeFinder)
