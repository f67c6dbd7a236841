"""The ``py61850`` command.

::

    py61850 demo                                  a guided tour against a simulated IED
    py61850 serve MODEL.icd [--ied NAME] [--port N] [--host H] [--simulate] [--filestore DIR]
                            [--log-storage FILE] [--log-max-entries N]
    py61850 browse HOST[:PORT] [--fcs] [--values]
    py61850 read HOST[:PORT] REF [FC]
    py61850 write HOST[:PORT] REF FC VALUE
    py61850 monitor HOST[:PORT] RCB_REF [--port N] [--gi] [--json] [--intg-pd MS]
    py61850 control HOST[:PORT] REF VALUE [--sbo] [--test] [--orident X] [--orcat N]
    py61850 files ls HOST[:PORT] [DIR] [--json]
    py61850 files get HOST[:PORT] REMOTE [LOCAL|-] [-r]
    py61850 files put HOST[:PORT] LOCAL REMOTE
    py61850 files rm HOST[:PORT] REMOTE...
    py61850 files mv HOST[:PORT] OLD NEW
    py61850 log HOST[:PORT] LOGREF [--since ISO [--until ISO] | --after ENTRYID --time ISO] [--json]
    py61850 sg HOST[:PORT] LD [--activate N] [--edit N [--set REF=VALUE ...] [--confirm]]
    py61850 gocb HOST[:PORT] REF [--enable|--disable] [--json]

References are ``LD/LN.DO.DA`` (for example ``TESTGenericIO/GGIO1.AnIn1.mag.f``);
FCs are the two-letter names (``MX``, ``ST``, ``SP``, ...). Exit status: 0 on
success, 1 when a service or the model fails, 2 for bad usage.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Optional, Sequence

from . import __version__

__all__ = ["main", "format_value", "parse_value", "parse_address"]

log = logging.getLogger("py61850.cli")

DEFAULT_PORT = 102


# ------------------------------------------------------------------ helpers


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


def parse_address(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``HOST[:PORT]`` -> ``(host, port)``; IPv6 as ``[::1]:102``.

    :raises UsageError: malformed
    """
    text = text.strip()
    if not text:
        raise UsageError("empty host")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise UsageError(f"bad address {text!r} (IPv6: [addr]:port)")
        port_txt = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise UsageError(f"bad address {text!r}")
    elif text.count(":") == 1:
        host, _, port_txt = text.partition(":")
    else:
        host, port_txt = text, ""
    if not port_txt:
        return host, default_port
    try:
        port = int(port_txt)
    except ValueError:
        raise UsageError(f"bad port in {text!r}") from None
    if not 0 < port < 65536:
        raise UsageError(f"port {port} out of range")
    return host, port


def _fc(text: str) -> Any:
    from ._enums import FunctionalConstraint

    try:
        fc = FunctionalConstraint[text.strip().upper()]
    except KeyError:
        raise UsageError(f"unknown functional constraint {text!r} (ST, MX, SP, CF, DC, ...)") from None
    if fc in (FunctionalConstraint.ALL, FunctionalConstraint.NONE):
        raise UsageError(f"{text} is not a functional constraint of an attribute")
    return fc


def _quality_text(bits: Any) -> str:
    from ._values import Quality, Validity

    q = Quality.from_bit_string(bits)
    parts = [] if q.validity == Validity.GOOD else [q.validity.name.lower()]
    names = {
        "overflow": "overflow", "out_of_range": "outOfRange", "bad_reference": "badReference",
        "oscillatory": "oscillatory", "failure": "failure", "old_data": "oldData",
        "inconsistent": "inconsistent", "inaccurate": "inaccurate", "test": "test",
        "operator_blocked": "operatorBlocked", "derived": "derived",
    }
    parts += [label for attr, label in names.items() if getattr(q, attr)]
    if q.source.value:
        parts.append("substituted")
    return "good" if not parts else ", ".join(parts)


def format_value(value: Any, name: str = "") -> str:
    """One-line text of an :class:`~py61850.client.MmsValue` (qualities named ``q``
    are spelled out, times are ISO 8601 UTC)."""
    from ._enums import MmsType

    t = value.type
    if t == MmsType.BOOLEAN:
        return "true" if value.to_python() else "false"
    if t == MmsType.FLOAT:
        x = value.to_python()
        return format(x, ".7g") if value.bit_size == 32 else repr(x)
    if t == MmsType.BIT_STRING:
        bits = value.to_bit_string()
        if name == "q" and bits.size in (13, 14):
            return f"{_quality_text(bits)} ({bits})"
        return str(bits)
    if t == MmsType.UTC_TIME:
        ts = value.to_timestamp()
        if ts.seconds == 0 and ts.fraction == 0:
            return "(not set)"
        return ts.datetime.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if t in (MmsType.VISIBLE_STRING, MmsType.STRING):
        return repr(value.to_python())
    if t == MmsType.OCTET_STRING:
        raw = value.to_python()
        return "0x" + raw.hex() if raw else "(empty)"
    if t in (MmsType.STRUCTURE, MmsType.ARRAY):
        inner = ", ".join(format_value(el) for el in value)
        return "{" + inner + "}" if t == MmsType.STRUCTURE else "[" + inner + "]"
    if t == MmsType.DATA_ACCESS_ERROR:
        dae = value.data_access_error
        return f"<error {getattr(dae, 'name', dae)}>"
    if isinstance(value.to_python(), _dt.datetime):
        return value.to_python().isoformat()
    return str(value.to_python())


def type_label(spec: Any) -> str:
    """``FLOAT32``, ``INT8``, ``VisString(-255)``... for a :class:`VariableSpec`."""
    from ._enums import MmsType

    t = spec.type
    if t == MmsType.FLOAT:
        return f"FLOAT{spec.size}"
    if t == MmsType.INTEGER:
        return f"INT{spec.size}"
    if t == MmsType.UNSIGNED:
        return f"INT{spec.size}U"
    if t in (MmsType.BIT_STRING, MmsType.OCTET_STRING, MmsType.VISIBLE_STRING, MmsType.STRING):
        short = {MmsType.BIT_STRING: "BITS", MmsType.OCTET_STRING: "OCTETS",
                 MmsType.VISIBLE_STRING: "VISSTRING", MmsType.STRING: "UNICODE"}[t]
        return f"{short}{abs(spec.size)}"
    if t == MmsType.ARRAY:
        return f"ARRAY[{spec.size}]"
    return t.name


def _parse_time(text: str) -> _dt.datetime:
    s = text.strip()
    if s.lower() == "now":
        return _dt.datetime.now(_dt.timezone.utc)
    try:
        when = _dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"{text!r} is not an ISO 8601 time (or 'now')") from None
    return when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)


def parse_value(text: str, spec: Any) -> Any:
    """Convert command-line text to a Python value for an attribute of type ``spec``.

    BOOLEAN: true/false/1/0/on/off; integers: decimal or 0x..; FLOAT: a number;
    strings: the text; octet strings: hex (``0a0b``, ``0x0a0b``, ``0a:0b``); bit
    strings: ``0101``; UtcTime: ISO 8601 or ``now``; structures and arrays: JSON
    (``[1.5]``, ``{"f": 2}``).

    :raises UsageError: the text does not fit the type
    """
    from ._enums import MmsType

    t = spec.type
    s = text.strip()
    try:
        if t == MmsType.BOOLEAN:
            low = s.lower()
            if low in ("true", "1", "on", "yes"):
                return True
            if low in ("false", "0", "off", "no"):
                return False
            raise ValueError
        if t in (MmsType.INTEGER, MmsType.UNSIGNED, MmsType.BCD):
            return int(s, 0)
        if t == MmsType.FLOAT:
            return float(s)
        if t in (MmsType.VISIBLE_STRING, MmsType.STRING, MmsType.GENERALIZED_TIME):
            return text
        if t == MmsType.OCTET_STRING:
            h = s[2:] if s.lower().startswith("0x") else s
            return bytes.fromhex(h.replace(":", "").replace(" ", ""))
        if t == MmsType.BIT_STRING:
            if not s or any(ch not in "01" for ch in s):
                raise ValueError
            return s
        if t in (MmsType.UTC_TIME, MmsType.BINARY_TIME):
            return _parse_time(s)
        if t in (MmsType.STRUCTURE, MmsType.ARRAY):
            return _coerce(json.loads(s), spec)
    except (ValueError, json.JSONDecodeError):
        pass
    raise UsageError(f"{text!r} is not a value of type {type_label(spec)}")


def _coerce(obj: Any, spec: Any) -> Any:
    """JSON leaves -> values for ``spec`` (times from strings, octets from hex)."""
    from ._enums import MmsType

    t = spec.type
    if t == MmsType.STRUCTURE:
        if isinstance(obj, dict):
            by = {c.name: c for c in spec.children}
            return {k: _coerce(v, by[k]) if k in by else v for k, v in obj.items()}
        if isinstance(obj, list):
            return [_coerce(v, c) for v, c in zip(obj, spec.children)] + obj[len(spec.children):]
        return obj
    if t == MmsType.ARRAY and isinstance(obj, list) and spec.element is not None:
        return [_coerce(v, spec.element) for v in obj]
    if isinstance(obj, str) and t not in (MmsType.VISIBLE_STRING, MmsType.STRING, MmsType.GENERALIZED_TIME):
        return parse_value(obj, spec)
    return obj


def _console() -> Any:
    try:
        from rich.console import Console
    except ImportError:  # pragma: no cover - rich is a dependency of the package
        raise UsageError("the py61850 command needs the 'rich' package (pip install rich)") from None
    return Console(highlight=False, soft_wrap=False)


def _connect(address: str, timeout: float) -> Any:
    from .client import IedConnection

    host, port = parse_address(address)
    conn = IedConnection()
    ms = max(1, int(timeout * 1000))
    conn.set_connect_timeout(ms)
    conn.set_request_timeout(ms)
    conn.connect(host, port)
    return conn


# ------------------------------------------------------------------ browse / read / write


def _attribute_tree(node: Any, da: Any, values: Optional[Any], show_fc: bool) -> None:
    from ._enums import MmsType

    label = f"[bold]{da.name}[/bold]"
    if show_fc:
        label += f" [cyan]\\[{da.fc.name}][/cyan] [dim]{type_label(da)}[/dim]"
    if values is not None and da.type not in (MmsType.STRUCTURE,):
        label += f" = {_escape(format_value(values, da.name))}"
    branch = node.add(label)
    if da.type == MmsType.STRUCTURE:
        for i, c in enumerate(da.children):
            sub = None
            if values is not None and values.type == MmsType.STRUCTURE and i < len(values):
                sub = values[i]
            _attribute_tree(branch, c, sub, show_fc)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def cmd_browse(args: argparse.Namespace) -> int:
    from rich.tree import Tree

    console = _console()
    with _connect(args.address, args.timeout) as conn:
        ident = conn.identify()
        model = conn.get_device_model()
        root = Tree(f"[bold]{_escape(args.address)}[/bold]  {_escape(' '.join(ident))}")
        for ld in model.logical_devices:
            ld_node = root.add(f"[bold green]{ld.name}[/bold green]")
            for ln in ld.logical_nodes:
                ln_node = ld_node.add(f"[bold yellow]{ln.name}[/bold yellow]")
                for do in ln.data_objects:
                    fcs = " ".join(f.name for f in do.functional_constraints)
                    do_node = ln_node.add(f"[bold]{do.name}[/bold]" + (f" [dim]{fcs}[/dim]" if args.fcs else ""))
                    if not (args.fcs or args.values):
                        continue
                    vals: dict[Any, Any] = {}
                    if args.values:
                        for fc in do.functional_constraints:
                            try:
                                vals[fc] = conn.read_value(f"{ld.name}/{ln.name}.{do.name}", fc)
                            except Exception as exc:  # keep browsing; show the reason
                                log.debug("read of %s/%s.%s [%s] failed: %s", ld.name, ln.name, do.name, fc.name, exc)
                                vals[fc] = None
                    index: dict[Any, int] = {}
                    for da in do.attributes:
                        v = None
                        whole = vals.get(da.fc)
                        if whole is not None:
                            i = index.get(da.fc, 0)
                            index[da.fc] = i + 1
                            v = whole[i] if i < len(whole) else None
                        _attribute_tree(do_node, da, v, args.fcs or args.values)
        console.print(root)
    return 0


def _fcs_of(conn: Any, ref: str) -> list[Any]:
    """The FCs a reference may have, from the data directory of its data object."""
    from ._enums import FunctionalConstraint

    ld, _, path = ref.partition("/")
    parts = path.split(".")
    if len(parts) < 2:
        return [FunctionalConstraint.NONE]
    do_ref = f"{ld}/{parts[0]}.{parts[1]}"
    try:
        entries = conn.get_data_directory_fc(do_ref)
    except Exception:
        return []
    found: list[Any] = []
    for e in entries:
        name, _, fc_txt = e.partition("[")
        if len(parts) > 2 and name != parts[2].split("(")[0]:
            continue
        try:
            fc = FunctionalConstraint[fc_txt.rstrip("]")]
        except KeyError:
            continue
        if fc not in found:
            found.append(fc)
    return found


def _print_value(console: Any, ref: str, fc: Any, value: Any, spec: Any) -> None:
    from rich.tree import Tree

    from ._enums import MmsType

    head = f"[bold]{_escape(ref)}[/bold] [cyan]\\[{fc.name}][/cyan]"
    if value.type in (MmsType.STRUCTURE,) and spec is not None and spec.children:
        tree = Tree(head)
        _value_tree(tree, spec, value)
        console.print(tree)
    else:
        label = type_label(spec) if spec is not None else value.type.name
        console.print(f"{head} [dim]{label}[/dim] = {_escape(format_value(value, ref.rsplit('.', 1)[-1]))}")


def _value_tree(node: Any, spec: Any, value: Any) -> None:
    from ._enums import MmsType

    for i, c in enumerate(spec.children):
        if i >= len(value):
            break
        v = value[i]
        if c.type == MmsType.STRUCTURE and v.type == MmsType.STRUCTURE:
            _value_tree(node.add(f"[bold]{c.name}[/bold]"), c, v)
        else:
            node.add(f"[bold]{c.name}[/bold] [dim]{type_label(c)}[/dim] = {_escape(format_value(v, c.name))}")


def cmd_read(args: argparse.Namespace) -> int:
    from ._errors import IedConnectionException

    console = _console()
    given = _fc(args.fc) if args.fc is not None else None  # bad usage before any network
    with _connect(args.address, args.timeout) as conn:
        if given is not None:
            fcs = [given]
        else:
            fcs = _fcs_of(conn, args.reference)
            if not fcs:
                print(f"py61850 read: {args.reference}: no such object (or give the FC)", file=sys.stderr)
                return 1
        errors: list[IedConnectionException] = []
        shown = 0
        for fc in fcs:
            try:
                value = conn.read_value(args.reference, fc)
            except IedConnectionException as exc:
                errors.append(exc)
                continue
            try:
                spec = conn.get_variable_specification(args.reference, fc)
            except IedConnectionException:
                spec = None
            _print_value(console, args.reference, fc, value, spec)
            shown += 1
        if not shown:
            raise errors[0]
    return 0


def cmd_write(args: argparse.Namespace) -> int:
    from ._server_model import to_mms

    console = _console()
    fc = _fc(args.fc)
    with _connect(args.address, args.timeout) as conn:
        spec = conn.get_variable_specification(args.reference, fc)
        value = parse_value(args.value, spec)
        try:
            mv = to_mms(spec, value, args.reference)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        conn.write_value(args.reference, fc, mv)
        console.print(f"[green]written[/green] {_escape(args.reference)} [{fc.name}]")
        try:
            back = conn.read_value(args.reference, fc)
        except Exception:  # write-only objects exist; the write itself succeeded
            return 0
        _print_value(console, args.reference, fc, back, spec)
    return 0


# ------------------------------------------------------------------ monitor


class _StatusLine:
    """A live one-line count on stderr (only when stderr is a terminal), kept
    below the report lines written to stdout."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.text = ""

    def clear(self) -> None:
        if self.live and self.text:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()

    def show(self, text: str) -> None:
        self.text = text
        if self.live:
            sys.stderr.write("\r\x1b[K" + text)
            sys.stderr.flush()

    def done(self, text: str) -> None:
        self.clear()
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def _report_lines(rep: Any, count: int) -> list[str]:
    """Human text of one report: a header line, then one line per included member."""
    head = [f"#{count}", rep.rcb_reference or rep.rpt_id]
    if rep.rpt_id and rep.rpt_id != rep.rcb_reference:
        head.append(f"RptID={rep.rpt_id}")
    if rep.has_seq_num:
        head.append(f"SqNum={rep.seq_num}")
    if rep.segments > 1:
        head.append(f"({rep.segments} segments)")
    ts = rep.timestamp
    if ts is not None:
        head.append(ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    if rep.dataset_name:
        head.append(f"DatSet={rep.dataset_name}")
    if rep.has_conf_rev:
        head.append(f"ConfRev={rep.conf_rev}")
    if rep.has_buf_ovfl and rep.buf_ovfl:
        head.append("BUFFER-OVERFLOW")
    if rep.entry_id is not None:
        head.append(f"EntryID={rep.entry_id.hex()}")
    lines = [" ".join(head)]
    refs, reasons, values = rep.data_references, rep.reasons, rep.values
    for i in rep.included:
        label = refs[i] or f"member {i}"
        name = label.replace("$", ".").rsplit(".", 1)[-1]
        text = format_value(values[i], name) if values[i] is not None else "?"
        why = reasons[i]
        why_txt = "" if not why or why.name == "UNKNOWN" else f"  ({why.name})"  # type: ignore[union-attr]
        lines.append(f"    {label} = {text}{why_txt}")
    return lines


def cmd_monitor(args: argparse.Namespace) -> int:
    import queue

    from ._enums import IedConnectionState

    host, port = parse_address(args.address)
    if args.port is not None:
        if not 0 < args.port < 65536:
            raise UsageError(f"port {args.port} out of range")
        port = args.port
    inbox: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
    status = _StatusLine()
    conn = _connect(f"[{host}]:{port}" if ":" in host else f"{host}:{port}", args.timeout)
    lost: list[bool] = []

    def on_closed(_conn: Any) -> None:
        lost.append(True)
        inbox.put(None)

    on_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    rcb = None
    count = 0
    rc = 0
    try:
        conn.on_connection_closed(on_closed)
        if on_main:  # SimpleQueue.put may be called from a signal handler
            for sig in previous:
                signal.signal(sig, lambda *_: inbox.put(None))
        rcb = conn.create_rcb_and_subscribe(args.rcb, inbox.put, intg_pd=args.intg_pd, gi=args.gi)
        kind = "BRCB" if rcb.is_buffered else "URCB"
        status.done(f"monitoring {kind} {rcb.reference} (RptID {rcb.rpt_id!r}, data set {rcb.dataset}) "
                    f"on {host}:{port} - press Ctrl-C to stop")
        out = sys.stdout
        while True:
            rep = inbox.get()
            if rep is None:
                break
            count += 1
            status.clear()
            if args.json:
                out.write(json.dumps(rep.to_dict()) + "\n")
            else:
                out.write("\n".join(_report_lines(rep, count)) + "\n")
            if inbox.empty():
                out.flush()
                status.show(f"{count} reports, {rcb.seq_gaps} sequence gaps, {conn.reports_dropped} dropped")
        if lost and not conn.state == IedConnectionState.CONNECTED:
            status.done("py61850 monitor: the connection was closed by the server or lost")
            rc = 1
    finally:
        if on_main:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        try:
            sys.stdout.flush()
        except OSError:
            pass
        if rcb is not None and conn.state == IedConnectionState.CONNECTED:
            try:
                rcb.disable()
            except Exception as exc:  # still close; say what went wrong
                print(f"py61850 monitor: could not disable {rcb.reference}: {exc}", file=sys.stderr)
                rc = rc or 1
        gaps = rcb.seq_gaps if rcb is not None else 0
        conn.close()
    status.done(f"{count} reports, {gaps} sequence gaps")
    return rc


# ------------------------------------------------------------------ serve / demo


def cmd_serve(args: argparse.Namespace) -> int:
    from ._server_sim import Simulator
    from .server import IedServer

    console = _console()
    if args.log_max_entries is not None and args.log_max_entries < 1:
        raise UsageError("--log-max-entries must be at least 1")
    extra: dict[str, Any] = {}
    if args.log_max_entries is not None:
        extra["log_max_entries"] = args.log_max_entries
    server = IedServer.from_scl(args.model, ied_name=args.ied, access_point=args.ap, filestore=args.filestore,
                                log_storage=args.log_storage, **extra)
    done = threading.Event()

    def on_conn(conn: Any, connected: bool) -> None:
        stamp = time.strftime("%H:%M:%S")
        console.print(f"[dim]{stamp}[/dim] client {conn.peer} {'connected' if connected else 'disconnected'}")

    server.on_connection(on_conn)
    # Ctrl-C (SIGINT) and SIGTERM end the loop below; installed explicitly because a
    # background job of a non-interactive shell starts with SIGINT ignored.
    on_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    if on_main:
        for sig in previous:
            signal.signal(sig, lambda *_: done.set())
    sim = None
    try:
        port = args.port if args.port is not None else (server.model.port or DEFAULT_PORT)
        server.start(port, args.host)
        n_lns = sum(len(ld.logical_nodes) for ld in server.model.logical_devices)
        console.print(
            f"IED [bold]{server.ied_name}[/bold] ({len(server.logical_devices)} logical devices, {n_lns} logical nodes: "
            f"{', '.join(server.logical_devices)})"
        )
        if args.simulate:
            sim = Simulator(server, interval=args.interval).start()
            console.print(
                f"simulating {len(sim.measurands)} measurands and {len(sim.indications)} indications "
                f"every {args.interval:g} s"
            )
        if server.filestore:
            console.print(f"file store {_escape(server.filestore)}")
        if server.logs:
            where = f"stored in {_escape(str(args.log_storage))}" if args.log_storage else "in memory"
            console.print(f"logs {', '.join(server.logs)} ({where})")
        console.print(f"listening on {args.host or '*'}:{server.port} - press Ctrl-C to stop")
        sys.stdout.flush()
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        if sim is not None:
            sim.stop()
        server.close()
        if on_main:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    console.print("stopped")
    return 0


# ------------------------------------------------------------------ control


def parse_ctl_value(text: str, spec: Any) -> Any:
    """Command-line text -> a control value for a ctlVal of type ``spec`` (or unknown).

    BOOLEAN: true/false/on/off/1/0; integers; FLOAT; a 2-bit BIT STRING (tap
    command, Dbpos): ``lower``/``higher``/``stop``, ``on``/``off`` or bits ``10``;
    a structure (APC): a number (into ``f``) or JSON (``{"f": 2.5}``).

    :raises UsageError: the text does not fit
    """
    from ._enums import MmsType
    from ._values import BitString

    s = text.strip()
    if spec is None:
        low = s.lower()
        if low in ("true", "on"):
            return True
        if low in ("false", "off"):
            return False
        for conv in (lambda x: int(x, 0), float):
            try:
                return conv(s)
            except ValueError:
                pass
        raise UsageError(f"{text!r}: give true/false or a number (the ctlVal type is unknown)")
    if spec.type == MmsType.BIT_STRING:
        if s and all(ch in "01" for ch in s) and len(s) == abs(spec.size):
            return BitString.from_str(s)
        if s.lower() in ("stop", "lower", "higher", "on", "off", "intermediate-state", "bad-state"):
            return s.lower()
        raise UsageError(f"{text!r} is not a value of type {type_label(spec)} (lower/higher/stop, on/off, bits)")
    if spec.type == MmsType.STRUCTURE:
        try:
            return float(s)
        except ValueError:
            pass
    return parse_value(text, spec)


def _model_name(model: Any) -> str:
    return {
        0: "status-only",
        1: "direct-with-normal-security",
        2: "sbo-with-normal-security",
        3: "direct-with-enhanced-security",
        4: "sbo-with-enhanced-security",
    }.get(int(model), str(model))


def cmd_control(args: argparse.Namespace) -> int:
    from ._enums import AddCause, ControlModel, FunctionalConstraint, MmsType, OrCat
    from ._errors import ControlRefusedError, IedConnectionException
    from ._values import MmsValue

    console = _console()
    if args.orcat is not None and not 0 <= args.orcat <= 8:
        raise UsageError(f"--orcat {args.orcat}: 0..8 (3 = remote-control)")
    oper_time = _parse_time(args.time) if args.time is not None else None
    ref = args.reference

    def step(name: str, text: str) -> None:
        console.print(f"[bold]{name:<12}[/bold] {text}")

    def show(v: Any) -> str:
        return _escape(format_value(v) if isinstance(v, MmsValue) else str(v))

    with _connect(args.address, args.timeout) as conn:
        ctl = conn.create_control_object(ref)
        model = ctl.control_model
        spec = ctl.ctl_val_type
        typ = f", ctlVal {type_label(spec)}" if spec is not None else ""
        tm = ", time-activated operate" if ctl.supports_time_activated_operate else ""
        step("model", f"{_escape(ref)}: {_model_name(model)}{typ}{tm}")
        if args.sbo and model in (ControlModel.DIRECT_NORMAL, ControlModel.DIRECT_ENHANCED):
            model = ControlModel.SBO_NORMAL if model == ControlModel.DIRECT_NORMAL else ControlModel.SBO_ENHANCED
            ctl = conn.create_control_object(ref, model)
            step("", f"--sbo: using {_model_name(model)}")
        value = parse_ctl_value(args.value, spec)
        if args.cancel and model not in (ControlModel.SBO_NORMAL, ControlModel.SBO_ENHANCED, ControlModel.STATUS_ONLY):
            raise UsageError(f"--cancel cancels a selection; {ref} is {_model_name(model)} (add --sbo?)")
        if args.orident is not None or args.orcat is not None:
            ctl.set_origin(args.orident or "", OrCat(args.orcat if args.orcat is not None else 3))
        if args.test:
            ctl.set_test_mode(True)
        if args.interlock_check:
            ctl.set_interlock_check(True)
        if args.synchro_check:
            ctl.set_synchro_check(True)
        origin = f", origin {args.orident or ''!r}/{OrCat(args.orcat if args.orcat is not None else 3).name}" \
            if args.orident is not None or args.orcat is not None else ""
        test = ", test" if args.test else ""
        try:
            if model == ControlModel.SBO_NORMAL:
                ctl.select()
                step("select", f"Read SBO: selected (ctlNum {ctl.ctl_num})")
            elif model == ControlModel.SBO_ENHANCED:
                ctl.select_with_value(value)
                step("select", f"Write SBOw ctlVal={_escape(args.value)}: selected (ctlNum {ctl.ctl_num}{origin}{test})")
            if args.cancel:
                ctl.cancel()
                step("cancel", f"Write Cancel: accepted (ctlNum {ctl.ctl_num})")
                console.print("[green]cancelled[/green]")
                return 0
            when = f", operTm {oper_time.isoformat()}" if oper_time is not None else ""
            ctl.operate(value, oper_time if oper_time is not None else 0)
            step("operate", f"Write Oper ctlVal={_escape(args.value)}: accepted (ctlNum {ctl.ctl_num}{origin}{test}{when})")
        except ControlRefusedError as exc:
            lae = exc.last_appl_error
            if lae is not None:
                detail = f" (LastApplError: error {lae.error.name}, ctlNum {lae.ctl_num})"
            elif exc.add_cause == AddCause.UNKNOWN:
                detail = " (the server sent no AddCause)"
            else:
                detail = ""
            step("refused", f"{_escape(exc.message)}")
            console.print(f"[red]refused: {exc.add_cause.name}[/red]{detail}")
            return 1
        if model in (ControlModel.DIRECT_ENHANCED, ControlModel.SBO_ENHANCED):
            wait = args.wait + (max(0.0, (oper_time - _dt.datetime.now(_dt.timezone.utc)).total_seconds())
                                if oper_time is not None else 0.0)
            term = ctl.wait_for_termination(wait)
            if term is None:
                step("termination", f"none within {wait:g} s")
                console.print("[red]no CommandTermination[/red]")
                return 1
            if not term.success:
                step("termination", f"CommandTermination- (ctlNum {term.ctl_num}, AddCause {term.add_cause.name})")
                console.print(f"[red]failed: {term.add_cause.name}[/red]")
                return 1
            step("termination", f"CommandTermination+ (ctlNum {term.ctl_num})")
        for name, fc in (("stVal", FunctionalConstraint.ST), ("mxVal", FunctionalConstraint.MX)):
            try:  # the status the command changes: stVal, or mxVal for an APC
                v = conn.read_value(f"{ref}.{name}", fc)
            except IedConnectionException:
                continue
            step(name, show(v.to_python()) if v.type == MmsType.STRUCTURE else show(v))
            break
        console.print("[green]done[/green]")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(_console(), port=args.port)


# ------------------------------------------------------------------ files


def _fmt_size(n: int) -> str:
    """``"1.5 MiB"`` style size."""
    if n < 1024:
        return f"{n} B"
    x = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        x /= 1024
        if x < 1024 or unit == "TiB":
            break
    return f"{x:.1f} {unit}"


def _fmt_time(t: Optional[_dt.datetime]) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z") if t is not None else "-"


class _Transfers:
    """Progress bars (rich, on stderr, only when stderr is a terminal: bytes, rate,
    time left) and one result line per file (stdout, or stderr when stdout carries
    the file's data)."""

    def __init__(self, quiet_stdout: bool = False) -> None:
        self.out = sys.stderr if quiet_stdout else sys.stdout
        self.progress: Any = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            )

    def __enter__(self) -> "_Transfers":
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def run(self, label: str, fn: Callable[[Optional[Callable[[int, Optional[int]], None]]], int]) -> int:
        """Run ``fn(progress_callback)`` with a bar labelled ``label``; returns its result."""
        t0 = time.monotonic()
        if self.progress is None:
            n = fn(None)
        else:
            task = self.progress.add_task(label, total=None)

            def update(done: int, total: Optional[int]) -> None:
                self.progress.update(task, completed=done, total=total)

            try:
                n = fn(update)
            finally:
                self.progress.remove_task(task)
        dt = max(time.monotonic() - t0, 1e-6)
        self.line(f"{label}: {n} octets in {dt:.2f} s ({n / dt / 1e6:.1f} MB/s)")
        return n

    def line(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
            if self.out is sys.stderr:
                return
        print(text, file=self.out, flush=True)


def _safe_local_part(rel: str) -> Optional[str]:
    """A server's file name as a relative local path (``None`` if it could leave the
    target directory: absolute, ``..``, control characters, backslashes)."""
    if not rel or rel.startswith("/") or "\\" in rel or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in rel):
        return None
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return os.path.join(*parts)


def cmd_files_ls(args: argparse.Namespace) -> int:
    directory = None if args.directory in (None, "", "/") else args.directory
    with _connect(args.address, args.timeout) as conn:
        entries = conn.get_files(directory)
    if args.json:
        print(json.dumps([{"name": e.name, "size": e.size, "last_modified": _fmt_time(e.last_modified)
                           if e.last_modified else None} for e in entries], indent=1))
        return 0
    for e in sorted(entries, key=lambda e: e.name):
        print(f"{e.size:>12}  {_fmt_time(e.last_modified):<20}  {e.name}")
    total = sum(e.size for e in entries)
    print(f"{len(entries)} files, {total} octets ({_fmt_size(total)})", file=sys.stderr)
    return 0


def cmd_files_get(args: argparse.Namespace) -> int:
    if args.recursive:
        return _files_get_tree(args)
    remote = args.remote
    base = remote.rstrip("/").rsplit("/", 1)[-1]
    if not base or remote.endswith("/"):
        raise UsageError(f"{remote!r} names no file (use -r for a directory)")
    to_stdout = args.local == "-"
    if to_stdout:
        target: Any = sys.stdout.buffer
        shown = "(stdout)"
    else:
        target = args.local if args.local is not None else base
        if os.path.isdir(target):
            target = os.path.join(target, base)
        shown = target
    with _connect(args.address, args.timeout) as conn, _Transfers(quiet_stdout=to_stdout) as tr:
        tr.run(f"{remote} -> {shown}", lambda p: conn.download_file(remote, target, progress=p))
        if to_stdout:
            sys.stdout.buffer.flush()
    return 0


def _files_get_tree(args: argparse.Namespace) -> int:
    from ._errors import ConnectionLostError, IedConnectionException, NotConnectedError

    directory = args.remote.strip("/")
    dest = args.local if args.local is not None else (directory.rsplit("/", 1)[-1] or ".")
    if dest == "-":
        raise UsageError("-r writes files into a directory, not to stdout")
    prefix = directory + "/" if directory else ""
    failures = 0
    with _connect(args.address, args.timeout) as conn:
        entries = conn.get_files(directory or None)
        with _Transfers() as tr:
            for e in sorted(entries, key=lambda e: e.name):
                rel = e.name[len(prefix):] if prefix and e.name.startswith(prefix) else e.name
                part = _safe_local_part(rel)
                if part is None:
                    tr.line(f"{e.name}: skipped (the name would leave {dest})")
                    failures += 1
                    continue
                local = os.path.join(dest, part)
                try:
                    os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
                    tr.run(f"{e.name} -> {local}", lambda p, n=e.name, lo=local: conn.download_file(n, lo, progress=p))
                except (ConnectionLostError, NotConnectedError):
                    raise
                except (IedConnectionException, OSError) as exc:
                    tr.line(f"{e.name}: FAILED: {exc}")
                    failures += 1
        print(f"{len(entries) - failures} of {len(entries)} files downloaded into {dest}", file=sys.stderr)
    return 1 if failures else 0


def cmd_files_put(args: argparse.Namespace) -> int:
    local = os.path.abspath(args.local)
    if not os.path.isfile(local):
        print(f"py61850 files put: {args.local}: not a file", file=sys.stderr)
        return 1
    remote = args.remote
    if remote.endswith("/"):
        remote += os.path.basename(local)
    with _connect(args.address, args.timeout) as conn, _Transfers() as tr:
        conn.set_filestore_basepath(os.path.dirname(local))
        tr.run(f"{args.local} -> {remote}",
               lambda p: conn.upload_file(os.path.basename(local), remote, progress=p))
    return 0


def cmd_files_rm(args: argparse.Namespace) -> int:
    from ._errors import ConnectionLostError, IedConnectionException, NotConnectedError

    failures = 0
    with _connect(args.address, args.timeout) as conn:
        for name in args.remote:
            try:
                conn.delete_file(name)
                print(f"deleted {name}")
            except (ConnectionLostError, NotConnectedError):
                raise
            except IedConnectionException as exc:
                print(f"py61850 files rm: {exc}", file=sys.stderr)
                failures += 1
    return 1 if failures else 0


def cmd_files_mv(args: argparse.Namespace) -> int:
    with _connect(args.address, args.timeout) as conn:
        conn.rename_file(args.old, args.new)
        print(f"renamed {args.old} -> {args.new}")
    return 0


def _add_files_parser(sub: Any) -> None:
    f = sub.add_parser("files", help="list, download, upload, delete and rename files of a server's file store")
    fs = f.add_subparsers(dest="files_command", metavar="ACTION")
    fs.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("address", metavar="HOST[:PORT]")

    def timeout(p: argparse.ArgumentParser) -> None:
        p.add_argument("--timeout", type=float, default=5.0,
                       help="connect timeout and timeout of each request in seconds (default 5)")

    ls = fs.add_parser("ls", help="list the files (of DIR, default: the whole file store)")
    common(ls)
    ls.add_argument("directory", metavar="DIR", nargs="?", default=None)
    ls.add_argument("--json", action="store_true", help="a JSON list of {name, size, last_modified}")
    timeout(ls)
    ls.set_defaults(func=cmd_files_ls)

    g = fs.add_parser("get", help="download a file (or with -r every file below a directory)")
    common(g)
    g.add_argument("remote", metavar="REMOTE", help="the server's file name (with -r: a directory, '/' = all)")
    g.add_argument("local", metavar="LOCAL", nargs="?", default=None,
                   help="local file or existing directory (default: the file's name here; '-' = stdout); "
                        "with -r the target directory (default: the directory's name)")
    g.add_argument("-r", "--recursive", action="store_true", help="download every file below REMOTE")
    timeout(g)
    g.set_defaults(func=cmd_files_get)

    p = fs.add_parser("put", help="upload a local file (the server fetches it: MMS ObtainFile)")
    common(p)
    p.add_argument("local", metavar="LOCAL")
    p.add_argument("remote", metavar="REMOTE", help="name on the server (ending in '/': keep the local name)")
    timeout(p)
    p.set_defaults(func=cmd_files_put)

    r = fs.add_parser("rm", help="delete files")
    common(r)
    r.add_argument("remote", metavar="REMOTE", nargs="+")
    timeout(r)
    r.set_defaults(func=cmd_files_rm)

    m = fs.add_parser("mv", help="rename a file")
    common(m)
    m.add_argument("old", metavar="OLD")
    m.add_argument("new", metavar="NEW")
    timeout(m)
    m.set_defaults(func=cmd_files_mv)


# ------------------------------------------------------------------ logs, setting groups, GoCB


def _cb_value_text(value: Any) -> str:
    """One-line text of a control block attribute value (from the block's properties)."""
    from enum import IntEnum, IntFlag

    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, IntFlag):
        names = [m.name for m in type(value) if m.value and m in value]
        return "|".join(names) if names else "none"  # type: ignore[arg-type]
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex() if value else "(empty)"
    if isinstance(value, _dt.datetime):
        return _fmt_ms_time(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _fmt_ms_time(t: _dt.datetime) -> str:
    return t.astimezone(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _print_cb(title: str, cb: Any) -> None:
    print(title)
    attrs = cb.attributes()
    width = max((len(k) for k in attrs), default=0)
    for name, value in attrs.items():
        print(f"  {name:<{width}}  {_cb_value_text(value)}")


def _journal_lines(entry: Any) -> list[str]:
    head = f"{_fmt_ms_time(entry.time)}  {entry.entry_id.hex()}"
    if not entry.variables:
        return [f"{head}  (no values)"]
    lines = []
    for i, var in enumerate(entry.variables):
        reason = ""
        if var.reason is not None:
            names = [m.name.lower() for m in type(var.reason) if m.value and m in var.reason]
            reason = f"  ({', '.join(names) or 'no reason'})"
        text = f"{var.reference} = {format_value(var.value, var.reference.rsplit('$', 1)[-1])}{reason}"
        lines.append(f"{head if i == 0 else ' ' * len(head)}  {text}")
    return lines


def cmd_log(args: argparse.Namespace) -> int:
    if args.after is not None and args.since is not None:
        raise UsageError("--since and --after exclude each other")
    if (args.after is None) != (args.time is None):
        raise UsageError("--after ENTRYID needs --time ISO (the time of that entry), and --time needs --after")
    since = _parse_time(args.since) if args.since is not None else None
    until = _parse_time(args.until) if args.until is not None else None
    after: Optional[bytes] = None
    when: Optional[_dt.datetime] = None
    if args.after is not None:
        try:
            after = bytes.fromhex(args.after[2:] if args.after.lower().startswith("0x") else args.after)
        except ValueError:
            raise UsageError(f"--after {args.after!r} is not a hex entry id") from None
        if not after:
            raise UsageError("--after needs an entry id")
        when = _parse_time(args.time)
    if until is not None and after is not None:
        raise UsageError("--until works with --since, not with --after")
    with _connect(args.address, args.timeout) as conn:
        if after is not None:
            assert when is not None
            entries = conn.query_log_after(args.log, after, when)
        else:
            entries = conn.query_log_by_time(args.log, since, until)
    out = sys.stdout
    for entry in entries:
        if args.json:
            out.write(json.dumps(entry.to_dict()) + "\n")
        else:
            out.write("\n".join(_journal_lines(entry)) + "\n")
    out.flush()
    print(f"{len(entries)} entries", file=sys.stderr)
    return 0


def _parse_assignment(text: str, ld: str) -> tuple[str, str]:
    ref, sep, value = text.partition("=")
    ref = ref.strip()
    if not sep or not ref:
        raise UsageError(f"--set {text!r}: expected REF=VALUE (e.g. PTOC1.StrVal.setMag.f=2.75)")
    if "/" not in ref:
        ref = f"{ld}/{ref}"
    return ref, value


def cmd_sg(args: argparse.Namespace) -> int:
    from ._enums import FunctionalConstraint as FC
    from ._server_model import to_mms

    sets = [_parse_assignment(t, args.ld.split("/", 1)[0]) for t in (args.set or [])]
    if sets and args.edit is None:
        raise UsageError("--set needs --edit N (the group to edit)")
    if args.confirm and args.edit is None:
        raise UsageError("--confirm needs --edit N")
    if args.edit == 0 and (sets or args.confirm):
        raise UsageError("--edit 0 releases the reservation: nothing to --set or --confirm")
    for what, n in (("--activate", args.activate), ("--edit", args.edit)):
        if n is not None and not 0 <= n <= 255:
            raise UsageError(f"{what} {n}: a setting group is 1..255 (--edit 0 releases)")
    with _connect(args.address, args.timeout) as conn:
        sgcb = conn.read_sgcb(args.ld)
        changed = args.activate is not None or args.edit is not None
        _print_cb(f"{sgcb.reference}" + (" (before)" if changed else ""), sgcb)
        if args.activate is not None:
            conn.select_active_sg(args.ld, args.activate)
            print(f"active setting group: {args.activate}")
        if args.edit is not None:
            conn.select_edit_sg(args.ld, args.edit)
            print(f"editing setting group {args.edit}" if args.edit else "edit reservation released")
            for ref, text in sets:
                spec = conn.get_variable_specification(ref, FC.SE)
                try:
                    mv = to_mms(spec, parse_value(text, spec), ref)
                except ValueError as exc:
                    raise UsageError(str(exc)) from None
                conn.write_value(ref, FC.SE, mv)
                print(f"  {ref} [SE] = {format_value(conn.read_value(ref, FC.SE), ref.rsplit('.', 1)[-1])}")
            if args.confirm:
                conn.confirm_edit_sg_values(args.ld)
                print(f"confirmed: the values of group {args.edit} are applied")
            elif args.edit and sets:
                print("not confirmed (--confirm): the edit is dropped when the connection closes", file=sys.stderr)
        if changed:
            sgcb.refresh()
            _print_cb(f"{sgcb.reference} (after)", sgcb)
    return 0


def cmd_gocb(args: argparse.Namespace) -> int:
    with _connect(args.address, args.timeout) as conn:
        gocb = conn.read_gocb(args.reference)
        if args.enable or args.disable:
            gocb.go_ena = bool(args.enable)
            conn.set_gocb_values(gocb)
            conn.update_gocb_values(gocb)
        if args.json:
            print(json.dumps(gocb.to_dict()))
        else:
            _print_cb(gocb.reference, gocb)
    return 0


def _add_issue7_parsers(sub: Any) -> None:
    lg = sub.add_parser("log", help="read a log (QueryLogByTime / QueryLogAfter)")
    lg.add_argument("address", metavar="HOST[:PORT]")
    lg.add_argument("log", metavar="LOGREF", help="the log, LD/LN$LogName (an LCB's LogRef), e.g. "
                                                   "TESTGenericIO/LLN0$EventLog")
    lg.add_argument("--since", metavar="ISO", default=None,
                    help="entries from this time on (ISO 8601, UTC when no offset; default: all)")
    lg.add_argument("--until", metavar="ISO", default=None, help="with --since or alone: entries up to this time")
    lg.add_argument("--after", metavar="ENTRYID", default=None,
                    help="entries after this entry (its id in hex, as printed); needs --time")
    lg.add_argument("--time", metavar="ISO", default=None, help="with --after: the time of that entry")
    lg.add_argument("--json", action="store_true", help="one JSON object per entry on stdout")
    lg.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    lg.set_defaults(func=cmd_log)

    sg = sub.add_parser("sg", help="show, switch or edit the setting groups of a logical device")
    sg.add_argument("address", metavar="HOST[:PORT]")
    sg.add_argument("ld", metavar="LD", help="logical device, e.g. TESTLD0")
    sg.add_argument("--activate", type=int, default=None, metavar="N", help="make group N the active one")
    sg.add_argument("--edit", type=int, default=None, metavar="N",
                    help="reserve group N for editing (0 releases the reservation)")
    sg.add_argument("--set", action="append", metavar="REF=VALUE",
                    help="with --edit: write the SE value of REF (LD/LN.DO.DA, or LN.DO.DA in LD); repeatable")
    sg.add_argument("--confirm", action="store_true", help="with --edit: apply the edited values")
    sg.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    sg.set_defaults(func=cmd_sg)

    go = sub.add_parser("gocb", help="show a GOOSE control block, or enable/disable it")
    go.add_argument("address", metavar="HOST[:PORT]")
    go.add_argument("reference", metavar="REF", help="LD/LLN0.name or LD/LLN0.GO.name")
    onoff = go.add_mutually_exclusive_group()
    onoff.add_argument("--enable", action="store_true", help="GoEna = true")
    onoff.add_argument("--disable", action="store_true", help="GoEna = false")
    go.add_argument("--json", action="store_true", help="the attributes as one JSON object")
    go.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    go.set_defaults(func=cmd_gocb)


# ------------------------------------------------------------------ main


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``py61850`` command."""
    p = argparse.ArgumentParser(prog="py61850", description="IEC 61850 (MMS) client and server tools.")
    p.add_argument("--version", action="version", version=f"py61850 {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    d = sub.add_parser("demo", help="start a simulated IED and take a guided client tour of it")
    d.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    d.set_defaults(func=cmd_demo)

    s = sub.add_parser("serve", help="run a server from an SCL file until Ctrl-C")
    s.add_argument("model", help="SCL file (ICD, CID, SCD)")
    s.add_argument("--ied", help="IED name (when the file has several)")
    s.add_argument("--ap", help="access point (when the IED has several servers)")
    s.add_argument("--port", type=int, default=None,
                   help=f"TCP port (default: the SCL's MMS-Port, else {DEFAULT_PORT}; 0 = any free)")
    s.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    s.add_argument("--simulate", action="store_true", help="let measurands wander and indications toggle")
    s.add_argument("--interval", type=float, default=1.0, help="simulation step in seconds (default 1)")
    s.add_argument("--filestore", metavar="DIR", default=None,
                   help="serve the files below DIR (MMS file services: list, download, upload, delete, rename)")
    s.add_argument("--log-storage", metavar="FILE", default=None,
                   help="keep the logs in this SQLite file, so they survive a restart (default: memory only)")
    s.add_argument("--log-max-entries", metavar="N", type=int, default=None,
                   help="entries each log keeps, oldest dropped first (default 10000)")
    s.set_defaults(func=cmd_serve)

    b = sub.add_parser("browse", help="show a server's data model as a tree")
    b.add_argument("address", metavar="HOST[:PORT]")
    b.add_argument("--fcs", action="store_true", help="show functional constraints and types")
    b.add_argument("--values", action="store_true", help="read and show the values")
    b.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    b.set_defaults(func=cmd_browse)

    r = sub.add_parser("read", help="read a data attribute or data object")
    r.add_argument("address", metavar="HOST[:PORT]")
    r.add_argument("reference", metavar="REF", help="LD/LN.DO[.DA...]")
    r.add_argument("fc", metavar="FC", nargs="?", help="functional constraint (default: every FC found)")
    r.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    r.set_defaults(func=cmd_read)

    w = sub.add_parser("write", help="write a data attribute and read it back")
    w.add_argument("address", metavar="HOST[:PORT]")
    w.add_argument("reference", metavar="REF", help="LD/LN.DO.DA[...]")
    w.add_argument("fc", metavar="FC")
    w.add_argument("value", metavar="VALUE", help="true/false, a number, text, hex octets, 0101 bits, ISO time, JSON")
    w.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    w.set_defaults(func=cmd_write)

    m = sub.add_parser("monitor", help="enable a report control block and print its reports until Ctrl-C")
    m.add_argument("address", metavar="HOST[:PORT]")
    m.add_argument("rcb", metavar="RCB_REF", help="LD/LN.RP.name (URCB) or LD/LN.BR.name (BRCB)")
    m.add_argument("--port", type=int, default=None, help=f"TCP port (default {DEFAULT_PORT}, or the one in HOST:PORT)")
    m.add_argument("--gi", action="store_true", help="ask for a general interrogation after enabling")
    m.add_argument("--json", action="store_true", help="one JSON object per report on stdout")
    m.add_argument("--intg-pd", type=int, default=None, metavar="MS", help="set the integrity period (ms)")
    m.add_argument("--timeout", type=float, default=5.0, help="connect/request timeout in seconds (default 5)")
    m.set_defaults(func=cmd_monitor)

    c = sub.add_parser("control", help="operate a controllable data object, printing each step")
    c.add_argument("address", metavar="HOST[:PORT]")
    c.add_argument("reference", metavar="REF", help="the data object, LD/LN.DO (e.g. TESTGenericIO/GGIO1.SPCSO1)")
    c.add_argument("value", metavar="VALUE",
                   help="ctlVal: true/false, a number, lower/higher (tap changer), JSON for a structure")
    c.add_argument("--sbo", action="store_true",
                   help="select before operate even if the object says direct-* (same security)")
    c.add_argument("--test", action="store_true", help="send the commands with Test = true")
    c.add_argument("--orident", default=None, metavar="X", help="originator identification (origin.orIdent)")
    c.add_argument("--orcat", type=int, default=None, metavar="N",
                   help="originator category 0..8 (default 3 remote-control when --orident is given)")
    c.add_argument("--interlock-check", action="store_true", help="ask the server to check interlocks")
    c.add_argument("--synchro-check", action="store_true", help="ask the server to check synchronism")
    c.add_argument("--time", default=None, metavar="ISO",
                   help="time-activated operate at this time (ISO 8601; objects with operTm only)")
    c.add_argument("--cancel", action="store_true", help="select, then cancel instead of operating")
    c.add_argument("--wait", type=float, default=10.0,
                   help="seconds to wait for the CommandTermination (enhanced models; default 10)")
    c.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    c.set_defaults(func=cmd_control)

    _add_files_parser(sub)
    _add_issue7_parsers(sub)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``py61850`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from ._errors import IedConnectionException

    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        parser.exit(2, f"py61850 {args.command}: error: {exc}\n")
    except IedConnectionException as exc:
        print(f"py61850 {args.command}: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"py61850 {args.command}: {exc}", file=sys.stderr)
    except ImportError as exc:  # the compiled extension is missing or broken
        print(f"py61850 {args.command}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # SCL and log storage errors: one line, no traceback
        from ._log_store import LogStorageError
        from .scl import SclError

        if not isinstance(exc, (SclError, LogStorageError)):
            raise
        print(f"py61850 {args.command}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
