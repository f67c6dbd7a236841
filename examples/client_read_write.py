"""Read and write a few values of ``examples/simple_io.icd`` with py61850's client.

Start a server first, for example ``python examples/server_simple_io.py --port 10102``
(or ``py61850 serve examples/simple_io.icd --port 10102``), then::

    python examples/client_read_write.py --port 10102

The script identifies the server, reads values of several types, writes the integer
setpoint ``GGIO1.IntSet1.setVal`` and reads it back, and shows how a refused write
looks (the example server refuses setpoints outside 0..100).
"""
from __future__ import annotations

import argparse
import sys

from py61850.client import FunctionalConstraint as FC
from py61850.client import IedConnection, IedConnectionException

GGIO = "TESTGenericIO/GGIO1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=10102)
    args = ap.parse_args()

    with IedConnection(args.host, args.port) as conn:
        vendor, model, revision = conn.identify()
        print(f"connected to {vendor} {model} {revision}")
        print("AnIn1.mag.f ", conn.read_float(f"{GGIO}.AnIn1.mag.f", FC.MX))
        print("AnIn1.q     ", conn.read_quality(f"{GGIO}.AnIn1.q", FC.MX))
        print("AnIn1.t     ", conn.read_timestamp(f"{GGIO}.AnIn1.t", FC.MX).datetime)
        print("Ind1.stVal  ", conn.read_boolean(f"{GGIO}.Ind1.stVal", FC.ST))
        print("vendor      ", conn.read_string("TESTGenericIO/LLN0.NamPlt.vendor", FC.DC))

        setpoint = f"{GGIO}.IntSet1.setVal"
        before = conn.read_int32(setpoint, FC.SP)
        new = (before + 1) % 100
        conn.write_int32(setpoint, FC.SP, new)
        print(f"IntSet1.setVal {before} -> {conn.read_int32(setpoint, FC.SP)}")
        try:
            conn.write_int32(setpoint, FC.SP, 1000)
            print("IntSet1.setVal = 1000 accepted (this server has no range check)")
        except IedConnectionException as exc:
            print(f"IntSet1.setVal = 1000 refused: {exc.error_code.name}")
        try:
            conn.write_float(f"{GGIO}.AnIn1.mag.f", FC.MX, 0.0)
        except IedConnectionException as exc:
            print(f"AnIn1.mag.f (MX) write refused: {exc.error_code.name}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except IedConnectionException as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
