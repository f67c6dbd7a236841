"""cffi build script for py61850._lib61850 (API mode, out of line).

The cdef is the public headers of vendor/lib61850/include/ (i61.h first, then
the other i61_*.h in name order) with preprocessor lines removed, plus the
``extern "Python"`` callbacks below; the extension links the
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

def public_headers() -> list[str]:
    """The public headers, i61.h first."""
    extra = sorted(n for n in os.listdir(INCLUDE_DIR) if n.startswith("i61_") and n.endswith(".h"))
    return ["i61.h"] + extra


def _public_cdef() -> str:
    lines: list[str] = []
    for name in public_headers():
        with open(os.path.join(INCLUDE_DIR, name), encoding="utf-8") as f:
            lines.extend(ln for ln in f if not ln.lstrip().startswith("#"))
    return "".join(lines)


ffibuilder = FFI()
ffibuilder.cdef(_public_cdef() + CALLBACKS)
ffibuilder.set_source(
    "py61850._lib61850",
    "".join(f'#include "{h}"\n' for h in public_headers()),
    include_dirs=[INCLUDE_DIR],
    extra_objects=[os.path.join(LIB_BUILD_DIR, "lib61850.a")],
    libraries=["pthread"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
