"""Browse an IED and read/write a few values of ``examples/simple_io.icd``.

Start a server for the example model first, for instance the libiec61850 peer used by the
tests (any IEC 61850 server serving simple_io.icd will do)::

    python tests/peers/libiec_server.py --scl examples/simple_io.icd --port 10102 &
    python examples/browse_and_read.py --port 10102

The script prints the logical devices and nodes, reads one attribute of several types and
writes the integer setpoint ``GGIO1.IntSet1.setVal`` (FC SP), then reads it back.
"""

from __future__ import annotations

import argparse
import logging

from py61850.client import FunctionalConstraint as FC
from py61850.client import IedConnection, IedConnectionException

log = logging.getLogger("py61850.examples.browse_and_read")

IO = "TESTGenericIO"
LD0 = "TESTLD0"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=102)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    try:
        with IedConnection(args.host, args.port) as conn:
            for ld in conn.get_logical_devices():
                print(f"{ld}: {', '.join(conn.get_logical_nodes(ld))}")

            print("AnIn1.mag.f     ", conn.read_float(f"{IO}/GGIO1.AnIn1.mag.f", FC.MX))
            print("Ind1.stVal      ", conn.read_boolean(f"{IO}/GGIO1.Ind1.stVal", FC.ST))
            print("NamPlt.vendor   ", conn.read_string(f"{IO}/LLN0.NamPlt.vendor", FC.DC))
            print("TypST.int64Val  ", conn.read_int64(f"{LD0}/GGIO2.TypST.int64Val", FC.ST))
            print("TypMX.int32uVal ", conn.read_uint32(f"{LD0}/GGIO2.TypMX.int32uVal", FC.MX))
            print("TypST.oct64Val  ", conn.read_octet_string(f"{LD0}/GGIO2.TypST.oct64Val", FC.ST))
            print("TypST.t         ", conn.read_timestamp(f"{LD0}/GGIO2.TypST.t", FC.ST))
            print("AnIn1.q         ", conn.read_quality(f"{IO}/GGIO1.AnIn1.q", FC.MX))

            setpoint = f"{IO}/GGIO1.IntSet1.setVal"
            before = conn.read_int32(setpoint, FC.SP)
            conn.write_int32(setpoint, FC.SP, before + 1)
            print(f"IntSet1.setVal   {before} -> {conn.read_int32(setpoint, FC.SP)}")
    except IedConnectionException as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
