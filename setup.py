"""Build: CMake compiles vendor/lib61850 into a static PIC library, then cffi
compiles the py61850._lib61850 extension (API mode, out of line) against it."""
import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "py61850"))
from _build_ffi import LIB_BUILD_DIR  # noqa: E402


class BuildWithCMake(build_ext):
    def run(self):
        cfg = ["cmake", "-S", ROOT, "-B", LIB_BUILD_DIR, "-DCMAKE_BUILD_TYPE=Release"]
        subprocess.check_call(cfg)
        jobs = str(os.cpu_count() or 2)
        subprocess.check_call(["cmake", "--build", LIB_BUILD_DIR, "--target", "lib61850", "-j", jobs])
        # the extension links the static library: relink whenever it changed
        lib = os.path.join(LIB_BUILD_DIR, "lib61850.a")
        for ext in self.extensions:
            ext.depends = list(ext.depends or []) + [lib]
        super().run()


setup(
    cffi_modules=["py61850/_build_ffi.py:ffibuilder"],
    cmdclass={"build_ext": BuildWithCMake},
)
