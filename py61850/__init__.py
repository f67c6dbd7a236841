"""py61850: IEC 61850 (MMS) client and server on lib61850."""

__version__ = "0.1.0"
