"""``py61850 demo``: a simulated IED on a free loopback port and a short guided
client tour against it (identify, browse, typed reads, a setpoint write read back,
the server refusing writes, reports from an unbuffered report control block,
switches operated in each control model, one command refused by interlocking, a
disturbance record listed and downloaded from the server's file store, the event
log queried by time and after an entry, setting groups switched and edited, and a
GOOSE control block read and enabled)."""
from __future__ import annotations

import math
import os
import tempfile
import time
from typing import Any

from ._demo_scl import demo_model

__all__ = ["run_demo", "SETPOINT", "SETPOINT_MAX", "RCB", "SWITCHES", "BREAKER", "EARTH_SWITCH", "RECORD",
           "write_demo_records", "LCB", "LOG", "PROT_LD", "PICKUP", "DELAY", "GOCB"]

MEAS = "DEMOMeas/MMXU1"
IO = "DEMOIO/GGIO1"
#: The setpoint the tour writes; the demo server refuses values above SETPOINT_MAX.
SETPOINT = f"{IO}.SetPt1.setMag.f"
SETPOINT_MAX = 80.0
#: The report control block the tour enables (data set DEMOIO/LLN0$Alarms).
RCB = "DEMOIO/LLN0.RP.urcbAlarms01"
ALARM = f"{IO}.Alm1.stVal"
#: The switchgear of the control section: (reference, name), one per control model.
SWITCHES = {
    "DEMOCtrl/CSWI1.Pos": "disconnector Q1",
    "DEMOCtrl/CSWI2.Pos": "earthing switch Q8",
    "DEMOCtrl/CSWI3.Pos": "bus coupler Q2",
    "DEMOCtrl/CSWI4.Pos": "circuit breaker Q0",
}
DISCONNECTOR = "DEMOCtrl/CSWI1.Pos"  # direct-with-normal-security
EARTH_SWITCH = "DEMOCtrl/CSWI2.Pos"  # sbo-with-normal-security
COUPLER = "DEMOCtrl/CSWI3.Pos"  # direct-with-enhanced-security
#: sbo-with-enhanced-security; its check handler refuses to close it while the earthing switch is closed
BREAKER = "DEMOCtrl/CSWI4.Pos"
_DBPOS = {"00": "intermediate", "01": "off", "10": "on", "11": "bad-state"}
#: The disturbance record of the demo's file store (a COMTRADE .cfg/.dat pair), without extension.
RECORD = "COMTRADE/DEMO_fault_001"
#: The event log (data set DEMOIO/LLN0$Events: Ind1, Ind2, Alm1) and its log control block.
LCB = "DEMOIO/LLN0.LG.EventLog"
LOG = "DEMOIO/LLN0$EventLog"
DOOR = f"{IO}.Ind2.stVal"
#: The protection LD with three setting groups (1 normal, 2 storm season, 3 commissioning).
PROT_LD = "DEMOProt"
PICKUP = "DEMOProt/PTOC1.StrVal.setMag.f"
DELAY = "DEMOProt/PTOC1.OpDlTmms.setVal"
#: Group 3 holds commissioning settings: the demo server refuses to activate it remotely.
COMMISSIONING_SG = 3
#: The GOOSE control block (data set Alarms).
GOCB = "DEMOIO/LLN0.GO.gcbAlarms"
_SAMPLES = 40  # two cycles at 50 Hz, 1 kHz


def write_demo_records(root: str) -> list[str]:
    """Write the demo's small COMTRADE-like record (ASCII ``.cfg`` and ``.dat``,
    three phase currents and a trip bit, 40 samples of a fault) below ``root``;
    returns the names relative to ``root``."""
    os.makedirs(os.path.join(root, os.path.dirname(RECORD)), exist_ok=True)
    cfg = "\r\n".join([
        "DemoFeeder,DEMO,1999",
        "4,3A,1D",
        "1,IA,A,,A,0.01,0,0,-32767,32767,1,1,P",
        "2,IB,B,,A,0.01,0,0,-32767,32767,1,1,P",
        "3,IC,C,,A,0.01,0,0,-32767,32767,1,1,P",
        "1,TRIP,,,0",
        "50",
        "1",
        f"1000,{_SAMPLES}",
        "21/11/2026,10:15:00.000000",
        "21/11/2026,10:15:00.020000",
        "ASCII",
        "1",
        "",
    ])
    rows = []
    for n in range(_SAMPLES):
        fault = n >= 20  # phase A fault after one cycle: ten times the current, trip
        amp = 12000.0 if fault else 1200.0
        phases = [int(round((amp if k == 0 else 1200.0) * math.sin(2 * math.pi * (50 * n / 1000 - k / 3))))
                  for k in range(3)]
        rows.append(",".join(str(v) for v in (n + 1, n * 1000, *phases, int(n >= 24))))
    dat = "\r\n".join(rows) + "\r\n"
    names = []
    for ext, text in ((".cfg", cfg), (".dat", dat)):
        with open(os.path.join(root, RECORD + ext), "w", encoding="ascii", newline="") as f:
            f.write(text)
        names.append(RECORD + ext)
    return names


def _section(console: Any, n: int, title: str) -> None:
    console.print()
    console.print(f"[bold magenta]{n}. {title}[/bold magenta]")


def run_demo(console: Any, port: int = 0) -> int:
    """Run the tour, printing to a :class:`rich.console.Console`; returns the exit status."""
    from rich.table import Table
    from rich.tree import Tree

    from ._enums import DataAccessError, FunctionalConstraint as FC
    from ._errors import IedConnectionException
    from ._server_sim import Simulator
    from .cli import _escape, format_value, type_label
    from .client import IedConnection
    from .server import IedServer, WriteRequest

    t0 = time.monotonic()
    store = tempfile.TemporaryDirectory(prefix="py61850-demo-")
    write_demo_records(store.name)
    server = IedServer(demo_model(), filestore=store.name)
    writes: list[str] = []

    def check_setpoint(req: WriteRequest) -> Any:
        writes.append(f"{req.reference} = {req.value:g} from {req.connection.peer}")
        if not 0.0 <= req.value <= SETPOINT_MAX:
            return DataAccessError.OBJECT_VALUE_INVALID
        return None

    server.on_write(SETPOINT, check_setpoint)
    _install_interlocking(server)
    sg_calls = _install_setting_group_handlers(server)
    sim = Simulator(server, interval=0.1, seed=61850)
    try:
        server.start(port, "127.0.0.1")
        sim.start()
        console.rule("[bold]py61850 demo[/bold]")
        _section(console, 1, "A simulated server")
        console.print(
            f"IED [bold]{server.ied_name}[/bold] from the bundled model, {len(server.logical_devices)} logical "
            f"devices ({', '.join(server.logical_devices)}), listening on 127.0.0.1:{server.port}.\n"
            f"{len(sim.measurands)} measurands wander and {len(sim.indications)} indications toggle. "
            f"Writes of SetPt1 go through a Python handler that refuses values above {SETPOINT_MAX:g}."
        )

        with IedConnection("127.0.0.1", server.port) as conn:
            _section(console, 2, "Identify")
            ident = conn.identify()
            table = Table(show_header=True, header_style="bold")
            for col in ("vendor", "model", "revision"):
                table.add_column(col)
            table.add_row(*ident)
            console.print(table)

            _section(console, 3, "Browse (logical devices, nodes, data objects and their FCs)")
            model = conn.get_device_model()
            tree = Tree(f"[bold]127.0.0.1:{server.port}[/bold]")
            for ld in model.logical_devices:
                ld_node = tree.add(f"[bold green]{ld.name}[/bold green]")
                for ln in ld.logical_nodes:
                    ln_node = ld_node.add(f"[bold yellow]{ln.name}[/bold yellow]")
                    for do in ln.data_objects:
                        fcs = " ".join(f.name for f in do.functional_constraints)
                        ln_node.add(f"{do.name} [dim]{fcs}[/dim]")
            console.print(tree)

            _section(console, 4, "Read typed values")
            table = Table(show_header=True, header_style="bold")
            table.add_column("reference", overflow="fold")
            for col in ("FC", "type", "value"):
                table.add_column(col)
            reads = [
                (f"{MEAS}.TotW.mag.f", FC.MX, conn.read_float),
                (f"{MEAS}.Hz.mag.f", FC.MX, conn.read_float),
                (f"{MEAS}.PhV.phsA.cVal.mag.f", FC.MX, conn.read_float),
                (f"{IO}.Ind1.stVal", FC.ST, conn.read_boolean),
                ("DEMOLD0/LLN0.Mod.stVal", FC.ST, conn.read_int32),
                ("DEMOLD0/LLN0.NamPlt.vendor", FC.DC, conn.read_string),
                (f"{IO}.IntSet1.setVal", FC.SP, conn.read_int32),
                (f"{MEAS}.TotW.q", FC.MX, conn.read_quality),
                (f"{MEAS}.TotW.t", FC.MX, conn.read_timestamp),
            ]
            for ref, fc, reader in reads:
                typed = reader(ref, fc)
                value = conn.read_value(ref, fc)
                spec = conn.get_variable_specification(ref, fc)
                text = format_value(value, ref.rsplit(".", 1)[-1])
                if isinstance(typed, float):
                    text = f"{typed:.3f}"
                table.add_row(ref, fc.name, type_label(spec), _escape(text))
            console.print(table)
            first = conn.read_float(f"{MEAS}.TotW.mag.f", FC.MX)
            time.sleep(0.25)
            second = conn.read_float(f"{MEAS}.TotW.mag.f", FC.MX)
            console.print(f"TotW a moment later: {first:.3f} -> {second:.3f} (the simulator moves it)")

            _section(console, 5, "Write a setpoint and read it back")
            before = conn.read_float(SETPOINT, FC.SP)
            conn.write_float(SETPOINT, FC.SP, 42.5)
            after = conn.read_float(SETPOINT, FC.SP)
            console.print(f"{SETPOINT} [SP]: {before:g} -> wrote 42.5 -> read back {after:g}")
            conn.write_int32(f"{IO}.IntSet1.setVal", FC.SP, 5)
            console.print(f"{IO}.IntSet1.setVal [SP]: wrote 5 -> read back {conn.read_int32(f'{IO}.IntSet1.setVal', FC.SP)}")

            _section(console, 6, "The server refuses some writes")
            try:
                conn.write_float(SETPOINT, FC.SP, 500.0)
                console.print("[red]500 was accepted (unexpected)[/red]")
                return 1
            except IedConnectionException as exc:
                console.print(f"SetPt1 = 500 -> refused by the Python handler: [yellow]{exc.error_code.name}[/yellow]")
            try:
                conn.write_float(f"{MEAS}.TotW.mag.f", FC.MX, 0.0)
                console.print("[red]a measurand write was accepted (unexpected)[/red]")
                return 1
            except IedConnectionException as exc:
                console.print(f"TotW (MX) = 0 -> refused by the access policy: [yellow]{exc.error_code.name}[/yellow]")
            console.print(f"still {conn.read_float(SETPOINT, FC.SP):g}; the handler saw: " + "; ".join(writes))

            _section(console, 7, "Reports")
            if not _report_tour(console, conn, server):
                return 1

            _section(console, 8, "Control")
            if not _control_tour(console, conn):
                return 1

            _section(console, 9, "Files")
            if not _file_tour(console, conn, server):
                return 1

            _section(console, 10, "Logs")
            if not _log_tour(console, conn, server):
                return 1

            _section(console, 11, "Setting groups")
            if not _setting_group_tour(console, conn, server, sg_calls):
                return 1

            _section(console, 12, "GOOSE control block")
            if not _gocb_tour(console, conn):
                return 1
    finally:
        sim.stop()
        server.close()
        store.cleanup()
    console.print()
    console.rule(f"done in {time.monotonic() - t0:.2f} s")
    console.print("Next: [bold]py61850 serve examples/simple_io.icd --port 10102 --simulate[/bold], then "
                  "[bold]py61850 browse 127.0.0.1:10102 --values[/bold]")
    return 0


def _report_tour(console: Any, conn: Any, server: Any) -> bool:
    """Enable :data:`RCB` with a general interrogation, raise an alarm on the
    server, and print the reports that arrive. False when something is missing."""
    from rich.table import Table

    from ._report import ReasonForInclusion
    from .cli import _escape, format_value

    rcb = conn.read_rcb(RCB)
    def names(flags: Any) -> str:
        return ", ".join(f.name.lower() for f in type(flags) if f in flags)

    console.print(
        f"{RCB}: RptID {rcb.rpt_id!r}, data set {rcb.dataset}\n"
        f"trigger options: {names(rcb.trg_ops)}\noptional fields: {names(rcb.opt_flds)}"
    )
    reports = rcb.reports(timeout=2.0)
    rcb.enable(gi=True)
    table = Table(show_header=True, header_style="bold")
    for col in ("SqNum", "member", "reason", "value"):
        table.add_column(col, overflow="fold")
    seen_gi = seen_alarm = raised = False
    deadline = time.monotonic() + 5.0
    try:
        for report in reports:
            for i in report.included:
                reason = report.get_reason_for_inclusion(i)
                ref = report.get_data_reference(i) or f"member {i}"
                table.add_row(str(report.seq_num), ref, reason.name, _escape(format_value(report[i], ref)))
                seen_gi = seen_gi or bool(reason & ReasonForInclusion.GI)
                if ref.endswith("Alm1$stVal") and reason & ReasonForInclusion.DATA_CHANGE:
                    seen_alarm = True
            if seen_gi and not raised:
                # the server application changes the alarm: a data-change report follows
                server.update_value(ALARM, not server.get_value(ALARM))
                raised = True
            if (seen_gi and seen_alarm) or time.monotonic() > deadline:
                break
    finally:
        rcb.disable()
    console.print(table)
    if not (seen_gi and seen_alarm):
        console.print("[red]the expected general-interrogation and alarm reports did not arrive[/red]")
        return False
    console.print("The first report answers the general interrogation (every member); the next ones carry "
                  "what changed, with the reason.")
    return True


def _install_interlocking(server: Any) -> None:
    """The demo server's interlocking: the breaker may not be closed (selected or
    operated with ``True``) while the earthing switch is closed."""
    from ._enums import AddCause
    from .server import ControlAction, ControlRefused

    def interlock(action: ControlAction, value: Any) -> None:
        if value is True and str(server.get_value(f"{EARTH_SWITCH}.stVal")) == "10":
            raise ControlRefused(AddCause.BLOCKED_BY_INTERLOCKING, "earthing switch Q8 is closed")

    server.on_control(BREAKER, check=interlock)


def _control_tour(console: Any, conn: Any) -> bool:
    """Operate a switch in each control model; the breaker is refused once by
    the interlocking. False when an outcome is not the expected one."""
    from ._enums import AddCause, FunctionalConstraint as FC, OrCat
    from ._errors import ControlRefusedError

    console.print(
        "DEMOCtrl holds one double-point switch per control model. The server checks the breaker in Python: "
        "it may not close while the earthing switch is closed (interlocking)."
    )
    controls = {}
    for ref in SWITCHES:
        ctl = conn.create_control_object(ref)  # reads ctlModel and the ctlVal type
        ctl.set_origin("py61850 demo", OrCat.REMOTE_CONTROL)
        controls[ref] = ctl
    ok = True

    def position(ref: str) -> str:
        return _DBPOS.get(str(conn.read_value(f"{ref}.stVal", FC.ST).to_bit_string()), "?")

    def run(ref: str, command: str, *steps: tuple[str, Any], expect: Any = None) -> None:
        nonlocal ok
        ctl = controls[ref]
        outcome = "accepted"
        try:
            for name, arg in steps:
                getattr(ctl, name)(*([] if arg is None else [arg]))
            if ctl.control_model.name.endswith("ENHANCED"):
                term = ctl.wait_for_termination(timeout=2.0)
                if term is None:
                    outcome = "[red]no CommandTermination[/red]"
                    ok = False
                elif term.success:
                    outcome = "accepted, then CommandTermination+"
                else:
                    outcome = f"[red]CommandTermination- {term.add_cause.name}[/red]"
                    ok = False
        except ControlRefusedError as exc:
            outcome = f"[yellow]refused, AddCause {exc.add_cause.name}[/yellow]"
            ok = ok and exc.add_cause == expect
        else:
            ok = ok and expect is None
        model = ctl.control_model.name.lower().replace("_", "-")
        console.print(f"[bold]{SWITCHES[ref]}[/bold] [dim]({ref}, {model})[/dim] now {position(ref)}\n"
                      f"    {command}: {outcome}")

    run(DISCONNECTOR, "operate(True)", ("operate", True))
    run(EARTH_SWITCH, "select(), operate(True)", ("select", None), ("operate", True))
    run(BREAKER, "select_with_value(True)", ("select_with_value", True), expect=AddCause.BLOCKED_BY_INTERLOCKING)
    run(EARTH_SWITCH, "select(), operate(False)", ("select", None), ("operate", False))
    run(BREAKER, "select_with_value(True), operate(True)", ("select_with_value", True), ("operate", True))
    run(COUPLER, "operate(True)", ("operate", True))
    if not ok:
        console.print("[red]a control command did not end as expected[/red]")
        return False
    console.print("Each model ran its sequence (operate; select, operate; select-with-value, operate, "
                  "CommandTermination), and the refusal told the client why.")
    return True


def _file_tour(console: Any, conn: Any, server: Any) -> bool:
    """List the demo server's file store and download its disturbance record.
    False when something is missing."""
    from rich.table import Table

    from .cli import _escape

    console.print(f"The server's file store ({_escape(server.filestore)}) holds a COMTRADE disturbance record.")
    entries = conn.get_files()
    table = Table(show_header=True, header_style="bold")
    for col in ("name", "size", "last modified"):
        table.add_column(col)
    for e in entries:
        when = e.last_modified.strftime("%Y-%m-%d %H:%M:%S %Z") if e.last_modified else ""
        table.add_row(_escape(e.name), str(e.size), when)
    console.print(table)
    names = {e.name for e in entries}
    if not {RECORD + ".cfg", RECORD + ".dat"} <= names:
        console.print("[red]the disturbance record is not listed[/red]")
        return False
    cfg = conn.download_file(RECORD + ".cfg").decode("ascii", "replace").splitlines()
    dat = conn.download_file(RECORD + ".dat").decode("ascii", "replace").splitlines()
    trip = next((row.split(",")[1] for row in dat if row.endswith(",1")), None)
    if len(cfg) < 10 or len(dat) != _SAMPLES or trip is None:
        console.print("[red]the downloaded record is incomplete[/red]")
        return False
    console.print(
        f"downloaded {RECORD}.cfg and .dat: station {cfg[0].split(',')[0]!r}, channels {cfg[1]}, "
        f"{len(dat)} samples at {cfg[8].split(',')[0]} Hz, trip at t = {int(trip) / 1000:g} ms"
    )
    return True


def _log_tour(console: Any, conn: Any, server: Any) -> bool:
    """Read the event log's LCB, make the server log two door events, and query
    the log by time and after an entry. False when something is missing."""
    import datetime as dt

    from rich.table import Table

    from ._enums import FunctionalConstraint as FC
    from .cli import _escape, format_value

    lcb = conn.read_lcb(LCB)
    console.print(f"{LCB}: LogEna {lcb.log_ena}, log {lcb.log_ref}, data set {lcb.dataset}, trigger options "
                  + ", ".join(f.name.lower() for f in type(lcb.trg_ops) if f in lcb.trg_ops))
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    door = bool(conn.read_boolean(DOOR, FC.ST))
    for value in (not door, door):  # the door opens and closes: two data changes, two entries
        server.update_value(DOOR, value)
    entries = conn.query_log_by_time(LOG, since, None)
    doors = [e for e in entries if any(v.reference.endswith("Ind2$stVal") for v in e.variables)]
    table = Table(show_header=True, header_style="bold")
    for col in ("entry id", "time (UTC)", "reference", "value", "reason"):
        table.add_column(col, overflow="fold")
    for e in entries[-6:]:
        for v in e.variables:
            reason = "|".join(f.name for f in type(v.reason) if f in v.reason) if v.reason else ""
            table.add_row(e.entry_id.hex(), e.time.strftime("%H:%M:%S.%f")[:-3], v.reference,
                          _escape(format_value(v.value, v.reference)), reason)
    console.print(table)
    if len(doors) < 2:
        console.print("[red]the door events are not in the log[/red]")
        return False
    after = conn.query_log_after(LOG, doors[-2].entry_id, doors[-2].time)
    info = server.log_info(LOG)
    console.print(f"query by time since {since:%H:%M:%S}: {len(entries)} entries; after entry "
                  f"{doors[-2].entry_id.hex()}: {len(after)} ({', '.join(e.entry_id.hex() for e in after)}). "
                  f"The server holds {info.count} entries, the newest {info.newest_entry_id.hex() if info.newest_entry_id else '-'}.")
    following = entries[entries.index(doors[-2]) + 1]
    if not after or after[0].entry_id != following.entry_id:
        console.print("[red]query after an entry did not continue with the next one[/red]")
        return False
    return True


def _install_setting_group_handlers(server: Any) -> list[str]:
    """The demo server refuses to activate the commissioning group remotely and
    records confirmed edits; returns the list the handlers append to."""
    from .server import SettingGroupChange, SettingGroupEdit, SettingGroupRefused

    calls: list[str] = []

    def activate(change: SettingGroupChange) -> None:
        calls.append(f"activate {change.old_sg} -> {change.new_sg}")
        if change.new_sg == COMMISSIONING_SG:
            raise SettingGroupRefused(message="commissioning settings are not activated remotely")

    def confirm(edit: SettingGroupEdit) -> None:
        calls.append(f"confirm group {edit.sg}: " + ", ".join(f"{k.rsplit('/', 1)[-1]} = {v:g}"
                                                                for k, v in edit.values.items()))

    server.on_setting_group(PROT_LD, on_activate=activate, on_confirm=confirm)
    return calls


def _setting_group_tour(console: Any, conn: Any, server: Any, calls: list[str]) -> bool:
    """Switch the active setting group, get a refusal, edit and confirm a group.
    False when an outcome is not the expected one."""
    from ._enums import FunctionalConstraint as FC
    from ._errors import IedConnectionException

    def settings() -> str:
        return (f"pickup {conn.read_float(PICKUP, FC.SG):g} A, "
                f"delay {conn.read_int32(DELAY, FC.SG)} ms")

    sgcb = conn.read_sgcb(PROT_LD)
    console.print(f"{PROT_LD}: {sgcb.num_of_sg} setting groups, active {sgcb.act_sg} ({settings()})")
    conn.select_active_sg(PROT_LD, 2)
    sgcb = conn.read_sgcb(PROT_LD)
    console.print(f"select_active_sg(2) -> active {sgcb.act_sg} since {sgcb.lact_tm:%H:%M:%S} ({settings()})")
    ok = sgcb.act_sg == 2
    try:
        conn.select_active_sg(PROT_LD, COMMISSIONING_SG)
        console.print("[red]the commissioning group was activated (unexpected)[/red]")
        return False
    except IedConnectionException as exc:
        console.print(f"select_active_sg({COMMISSIONING_SG}) -> refused by the Python handler: "
                      f"[yellow]{exc.error_code.name}[/yellow]")
    conn.select_edit_sg(PROT_LD, 2)
    conn.write_float(PICKUP, FC.SE, 300.0)
    conn.confirm_edit_sg_values(PROT_LD)  # also ends the edit reservation
    console.print(f"edit group 2: pickup := 300 (SE), confirm -> group 2 now {settings()}")
    ok = ok and conn.read_float(PICKUP, FC.SG) == 300.0 and server.get_sg_value(PICKUP, 2) == 300.0
    console.print("the server's handlers saw: " + "; ".join(calls))
    if not ok:
        console.print("[red]the setting groups did not change as expected[/red]")
    return ok


def _gocb_tour(console: Any, conn: Any) -> bool:
    """Read the GOOSE control block and enable it. False when something is missing."""
    gocb = conn.read_gocb(GOCB)
    console.print(f"{GOCB}: GoID {gocb.go_id!r}, data set {gocb.dataset}, ConfRev {gocb.conf_rev}, "
                  f"GoEna {gocb.go_ena}\n  destination {gocb.dst_address}, MinTime {gocb.min_time} ms, "
                  f"MaxTime {gocb.max_time} ms")
    gocb.go_ena = True
    conn.set_gocb_values(gocb)
    back = conn.read_gocb(GOCB)
    console.print(f"GoEna := True -> read back {back.go_ena} (the demo server does not publish GOOSE messages "
                  "on the network: the control block is data)")
    return bool(back.go_ena) and back.dst_address is not None and back.dst_address.appid == 0x3001
