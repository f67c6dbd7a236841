"""cffi build script for py61850._lib61850 (API mode, out of line).

The cdef is vendor/lib61850/include/i61.h itself with preprocessor lines
removed, plus the ``extern "Python"`` callbacks below; the extension links the
static library that setup.py builds with CMake into LIB_BUILD_DIR.
"""
import os

from cffi import FFI

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_DIR = os.path.join(ROOT, "vendor", "lib61850", "include")
LIB_BUILD_DIR = os.path.join(ROOT, "build", "lib61850")

CALLBACKS = """
extern "Python" void _py61850_state_cb(void *userdata, int new_state);
"""


def _public_cdef() -> str:
    with open(os.path.join(INCLUDE_DIR, "i61.h"), encoding="utf-8") as f:
        lines = [ln for ln in f if not ln.lstrip().startswith("#")]
    return "".join(lines)


ffibuilder = FFI()
ffibuilder.cdef(_public_cdef() + CALLBACKS)
ffibuilder.set_source(
    "py61850._lib61850",
    '#include "i61.h"\n',
    include_dirs=[INCLUDE_DIR],
    extra_objects=[os.path.join(LIB_BUILD_DIR, "lib61850.a")],
    libraries=["pthread"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
