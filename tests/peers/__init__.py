"""Peer IEC 61850 stacks used as interop counterparts (libiec61850, the Rust-based iec61850).

* :mod:`peers.sclmodel` - reader of our example SCL files (expected model, values, MMS names)
* :mod:`peers.process` - start/stop the peer server scripts as child processes
* :mod:`peers.clients` - helpers for the peers' own clients
* ``libiec_server.py`` / ``rust_server.py`` - the peer server scripts

See README.md in this folder for the facts found about the peers.
"""
