"""Peer server: the Rust-based ``iec61850`` package (PyPI, 0.14) serving one of our SCL files.

Usage::

    python tests/peers/rust_server.py --scl examples/simple_io.icd [--ied TEST] --port 10103

``IedServer.from_scl`` builds the data model and applies the SCL ``Val`` initial values for
booleans, integers, enums, floats and strings. It does **not** instantiate SCL data sets
and report control blocks, so they are re-declared here from :class:`peers.sclmodel.SclModel`
(``add_dataset("LLN0$Events", ["GenericIO/GGIO1.Ind1.stVal", ...])`` and
``register_urcb``/``register_brcb`` for every instance ``<name>01..NN``). Every controllable
DO (one with ``Oper`` and a ctlModel other than status-only) gets an ``on_control`` handler
that accepts the command and mirrors a boolean/integer ctlVal into ``stVal`` (a float one
into ``mxVal.f``), with the SCL ``sboTimeout``; the commands ``interlock <ref> on|off`` and
``opfail <ref> on|off`` make it refuse (:class:`peers.process.ControlSwitches`).

Known gaps of this peer (see tests/peers/README.md): initial values of Dbpos, Octet64,
Timestamp, Quality and Check attributes are not applied and cannot be set through its API;
writes work only for scalar attributes directly below a DO (SP); GetNameList does not list
RCB names.

Protocol with the parent process: ``--port 0`` lets the OS choose. Exactly one line
``READY <port>`` on stdout once listening on 127.0.0.1; then fd 1 is redirected to
/dev/null and the original stdout pipe carries only the answers to the commands read from
stdin (``set``/``blast``, see :class:`peers.process.PeerCommands`; values change through
``update_bool/int32/int64/uint32/float32/float64/string``, which has no call for Dbpos,
Quality, Timestamp, Octet64, Check: those answer ``ERR``). Runs until SIGTERM/SIGINT (or
until its parent process exits), stops the server and exits 0 (errors: stderr, exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import iec61850  # noqa: E402

from peers.clients import mask_to_rust_reason  # noqa: E402
from peers.process import ControlCommands, ControlSwitches, SettingGroupSwitches, parse_value  # noqa: E402
from peers.sclmodel import Leaf, SclDA, SclDO, SclLD, SclModel  # noqa: E402

log = logging.getLogger("py61850.tests.peers.rust_server")

_CTL_MODELS = {
    0: "status-only",
    1: "direct-normal",
    2: "sbo-normal",
    3: "direct-enhanced",
    4: "sbo-enhanced",
}

_TRG_OPS = {"dchg": "data_changed", "qchg": "quality_changed", "dupd": "data_update", "period": "integrity", "gi": "gi"}
_OPT_FIELDS = {
    "seqNum": "seq_num",
    "timeStamp": "time_stamp",
    "reasonCode": "reason",
    "dataSet": "data_set",
    "dataRef": "data_reference",
    "configRef": "conf_rev",
    "bufOvfl": "buffer_overflow",
    "entryID": "entry_id",
}


def _leaf_da_paths(prefix: str, node: SclDO | SclDA, fc: str) -> list[str]:
    """Basic-type attribute paths of an FCD/FCDA (the Rust server accepts DA paths only)."""
    if isinstance(node, SclDA):
        if node.fc != fc:
            return []
        if not node.is_struct:
            return [prefix]
    out: list[str] = []
    for ch in node.children:
        out += _leaf_da_paths(f"{prefix}.{ch.name}", ch, fc)
    return out


def _find(node_list: list, dotted: str) -> SclDO | SclDA:
    name, _, rest = dotted.partition(".")
    for n in node_list:
        if n.name == name:
            return _find(n.children, rest) if rest else n
    raise KeyError(dotted)


def configure(server: "iec61850.IedServer", model: SclModel, switches: ControlSwitches) -> None:
    """Re-declare data sets, RCBs and control handlers that ``from_scl`` does not create."""
    for ld in model.lds:
        for ln in ld.lns:
            for ds in ln.datasets:
                paths: list[str] = []
                for m in ds.members:
                    target_ln = ld.ln(m.ln)
                    node = _find(target_ln.dos, m.do_name if not m.da_name else f"{m.do_name}.{m.da_name}")
                    paths += _leaf_da_paths(f"{ld.inst}/{m.path()}", node, m.fc)
                server.add_dataset(f"{ln.name}${ds.name}", paths)
            for rc in ln.report_controls:
                kwargs = dict(
                    dataset=f"{ln.name}${rc.dataset}",
                    rpt_id=rc.rpt_id or None,
                    conf_rev=rc.conf_rev,
                    trg_ops=[_TRG_OPS[k] for k in sorted(rc.trg_ops) if k in _TRG_OPS],
                    opt_flds=[_OPT_FIELDS[k] for k in sorted(rc.opt_fields) if k in _OPT_FIELDS],
                    buf_tm_ms=rc.buf_time,
                    intg_pd_ms=rc.intg_pd,
                )
                for inst in rc.instances():
                    if rc.buffered:
                        server.register_brcb(f"{ld.inst}/{ln.name}.{inst}", **kwargs)
                    else:
                        server.register_urcb(f"{ld.inst}/{ln.name}.{inst}", **kwargs)
            for lc in ln.log_controls:
                # the Rust server serves the log of an LCB as the journal "LN$LG$<LCB name>" (whatever
                # log_ref says): LogRef names that journal, so a client can follow it
                server.register_log_control(
                    f"{ld.inst}/{ln.name}.{lc.name}",
                    dataset=f"{ln.name}${lc.dataset}" if lc.dataset else None,
                    log_ref=rust_journal_ref(ld.domain, ln.name, lc.name),
                    trg_ops=[_TRG_OPS[k] for k in sorted(lc.trg_ops) if k in _TRG_OPS] or ["none"],
                    intg_pd_ms=lc.intg_pd,
                    storage_capacity=LOG_CAPACITY,
                    include_reason_code=lc.reason_code,
                    default_enabled=lc.log_ena,
                )
            for do in ln.dos:
                _register_control(server, model, f"{ld.inst}/{ln.name}.{do.name}", f"{ld.domain}/{ln.name}.{do.name}", do,
                                  switches)


#: Entries each LCB's in-memory journal keeps (oldest evicted first).
LOG_CAPACITY = 10000


def rust_journal_ref(domain: str, ln: str, lcb: str) -> str:
    """The journal the Rust server serves for an LCB: ``"<domain>/<LN>$LG$<LCB name>"``."""
    return f"{domain}/{ln}$LG${lcb}"


class RustSettingGroups:
    """Per-group values of one LD's SGCB on the Rust server: ``from_scl`` keeps one value per
    attribute, so the active group's values are loaded with ``update_*`` at start and in
    ``on_act_sg``. The Rust server exposes no FC SE data, so an edit cannot change values."""

    def __init__(self, server: "iec61850.IedServer", model: SclModel, ld: SclLD, update,
                 sg_switches: SettingGroupSwitches) -> None:
        self.server = server
        self.ld = ld
        self.update = update
        self.sg_switches = sg_switches
        sgc = ld.setting_control
        assert sgc is not None
        self.leaves = {lf.path: lf for lf in model.sg_leaves(ld.domain)}
        self.groups = {p: list(lf.sg_values) if lf.sg_values is not None else [lf.value] * sgc.num_of_sgs
                       for p, lf in self.leaves.items()}
        self.events: list[tuple[str, int, int]] = []  # ("activate"|"edit"|"confirm", sg, connection id)

    def load(self, sg: int) -> None:
        for path, values in self.groups.items():
            if values[sg - 1] is not None:
                self.update(self.leaves[path], values[sg - 1])

    def on_act_sg(self, new_sg: int, conn_id: int) -> bool:
        try:
            if self.sg_switches.refuses(self.ld.domain, "activate"):
                return False
            self.load(int(new_sg))
            self.events.append(("activate", int(new_sg), int(conn_id)))
            return True
        except Exception:  # never into the Rust runtime
            log.exception("on_act_sg failed")
            return False

    def on_edit_sg(self, new_sg: int, conn_id: int) -> bool:
        if self.sg_switches.refuses(self.ld.domain, "edit"):
            return False
        self.events.append(("edit", int(new_sg), int(conn_id)))
        return True

    def on_confirm(self, edit_sg: int, conn_id: int) -> None:
        self.events.append(("confirm", int(edit_sg), int(conn_id)))

    def register(self) -> None:
        self.server.register_setting_group_handler(self.ld.inst, on_act_sg=self.on_act_sg,
                                                   on_edit_sg=self.on_edit_sg, on_confirm=self.on_confirm)

    def state(self) -> str:
        info = self.server.get_setting_group_info(self.ld.inst)
        return (f"act={info['act_sg']} edit={info['edit_sg']} cnf={int(bool(info['cnf_edit']))} "
                f"num={info['num_of_sg']}")




def _refusal(text: str, add_cause: str) -> Exception:
    err = iec61850.IedControlError(text)
    err.add_cause = add_cause
    return err


def _register_control(server: "iec61850.IedServer", model: SclModel, path: str, ref: str, do: SclDO,
                      switches: ControlSwitches) -> None:
    das = {c.name: c for c in do.children if isinstance(c, SclDA)}
    if "Oper" not in das or das["Oper"].fc != "CO":
        return
    ctl = das.get("ctlModel")
    ctl_model = _CTL_MODELS.get(ctl.value if ctl is not None and ctl.value is not None else 1, "direct-normal")
    if ctl_model == "status-only":
        return
    st = das.get("stVal")
    mx = das.get("mxVal")
    timeout = das.get("sboTimeout")
    extra = {}
    if timeout is not None and timeout.value and ctl_model.startswith("sbo"):
        extra["sbo_timeout_ms"] = int(timeout.value)

    def check(_path: str, _ctl_val: object, _action: dict) -> None:
        if ref in switches.interlocked:
            raise _refusal("interlocked", "BlockedByInterlocking")

    def operate(_path: str, ctl_val: object, _action: dict) -> None:
        if ref in switches.failing:
            raise _refusal("operate failed", "BlockedByProcess")
        if st is None:
            # APC: an AnalogueValue ctlVal arrives as a list of its components ([f]); a bare
            # float (what the Rust client sends) is accepted too
            f = ctl_val[0] if isinstance(ctl_val, (list, tuple)) and ctl_val else ctl_val
            if mx is not None and isinstance(f, (int, float)) and not isinstance(f, bool):
                server.update_float32(f"{path}.mxVal.f", float(f))
            return
        if st.btype == "BOOLEAN":
            server.update_bool(f"{path}.stVal", bool(ctl_val))
        elif st.btype in ("INT8", "INT16", "INT32", "Enum"):
            server.update_int32(f"{path}.stVal", int(ctl_val))

    server.on_control(path, ctl_model=ctl_model, check=check, operate=operate, **extra)
    log.debug("control %s (%s)", ref, ctl_model)


def make_updater(server: "iec61850.IedServer", model: SclModel):
    """``update(leaf, value)`` for :class:`PeerCommands` (paths without IED name and FC)."""
    calls = {
        "BOOLEAN": (server.update_bool, bool),
        "INT8": (server.update_int32, int),
        "INT16": (server.update_int32, int),
        "INT32": (server.update_int32, int),
        "Enum": (server.update_int32, int),
        "INT64": (server.update_int64, int),
        "INT8U": (server.update_uint32, int),
        "INT16U": (server.update_uint32, int),
        "INT32U": (server.update_uint32, int),
        "FLOAT32": (server.update_float32, float),
        "FLOAT64": (server.update_float64, float),
    }
    inst = {ld.domain: ld.inst for ld in model.lds}

    def update(leaf: Leaf, value: object) -> None:
        b = leaf.btype
        if b in calls:
            fn, conv = calls[b]
        elif b.startswith("VisString") or b == "Unicode255":
            fn, conv = server.update_string, str
        else:
            raise TypeError(f"the Rust server has no update call for bType {b}")
        fn(f"{inst[leaf.domain]}/{leaf.path}", conv(value))

    return update


def commands(server: "iec61850.IedServer", model: SclModel, setting_groups: dict[str, RustSettingGroups],
             sg_switches: SettingGroupSwitches) -> dict:
    """The server-specific command verbs (see tests/peers/README.md)."""
    inst = {}
    for ld in model.lds:
        inst[ld.domain] = ld.inst
        inst[ld.inst] = ld.inst
    leaves: dict[tuple[str, str, str], Leaf] = {}
    for lf in model.leaves():
        ld = model.ld(lf.domain)
        for name in (ld.domain, ld.inst):
            leaves[(name, lf.path, lf.fc)] = lf

    def sgs(ld: str) -> RustSettingGroups:
        domain = sg_switches.domain(ld)
        if domain not in setting_groups:
            raise KeyError(f"{domain} has no SGCB")
        return setting_groups[domain]

    def lcb_path(ref: str) -> str:
        ld, sep, rest = ref.partition("/")
        if not sep or ld not in inst or "." not in rest:
            raise KeyError(f"not an LCB reference: {ref!r}")
        return f"{inst[ld]}/{rest}"

    def log(rest: str) -> str:
        # log [reason=N] [time=MS] <LD/LN.lcb> <LD/LN.DO.DA> <FC> <value>
        words = rest.split(" ")
        opts: dict[str, int] = {}
        while words and "=" in words[0] and words[0].split("=", 1)[0] in ("reason", "time"):
            k, v = words.pop(0).split("=", 1)
            opts[k] = int(v, 0)
        if len(words) < 4:
            raise ValueError("usage: log [reason=N] [time=MS] <LD/LN.lcb> <LD/LN.DO.DA> <FC> <value>")
        lcb, ref, fc, text = words[0], words[1], words[2].upper(), " ".join(words[3:])
        ld, _, path = ref.partition("/")
        lf = leaves.get((ld, path, fc))
        if lf is None:
            raise KeyError(f"no leaf {ref} [{fc}]")
        value = parse_value(lf, text, model.enum_types)
        ln, _, rest_path = lf.path.partition(".")
        data_ref = f"{lf.domain}/{ln}${fc}${rest_path.replace('.', '$')}"
        # reason: IEC bit n -> 1 << (n - 1) (data-change 1); the Rust API takes the octet 0x80 >> n
        kwargs = {"data_ref": data_ref, "value": value, "reason_code": mask_to_rust_reason(opts.get("reason", 1))}
        if "time" in opts:
            kwargs["time_ms"] = opts["time"]
        entry = server.log_value(lcb_path(lcb), **kwargs)
        if entry is None:
            return "OK none"
        return f"OK {int(entry):016x} {data_ref}"

    def logena(rest: str) -> str:
        lcb, state = rest.split()
        if state not in ("on", "off"):
            raise ValueError("usage: logena <LD/LN.lcb> on|off")
        server.set_log_ena(lcb_path(lcb), state == "on")
        return "OK"

    def sgcb(rest: str) -> str:
        return f"OK {sgs(rest).state()}"

    def sgvalue(rest: str) -> str:
        ref, sg = rest.split()
        ld, _, path = ref.partition("/")
        values = sgs(ld).groups.get(path)
        if values is None:
            raise KeyError(f"no FC SG attribute {ref}")
        return f"OK {values[int(sg) - 1]!r}"

    def sgevents(rest: str) -> str:
        events = sgs(rest).events
        return "OK " + " ".join(f"{kind}:{sg}:{conn}" for kind, sg, conn in events)

    return {"log": log, "logena": logena, "sg": sgcb, "sgvalue": sgvalue, "sgevents": sgevents,
            "sgveto": sg_switches.handle}


async def serve(args: argparse.Namespace) -> int:
    parent = os.getppid()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    model = SclModel(args.scl, args.ied)
    server = iec61850.IedServer.from_scl(args.scl, ied_name=model.ied_name)
    switches = ControlSwitches(model)
    sg_switches = SettingGroupSwitches(model)
    configure(server, model, switches)
    update = make_updater(server, model)
    setting_groups = {ld.domain: RustSettingGroups(server, model, ld, update, sg_switches)
                      for ld in model.lds if ld.setting_control is not None}
    for sgs in setting_groups.values():
        sgs.register()
    server.bind(f"127.0.0.1:{args.port}")
    try:
        await server.start()
    except Exception as exc:  # bind failure and the like
        print(f"rust_server: cannot start on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    for sgs in setting_groups.values():  # from_scl kept one value per attribute: the active group's
        sgs.load(int(server.get_setting_group_info(sgs.ld.inst)["act_sg"]))
    port = int(server.bound_addr.rsplit(":", 1)[1])
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    ControlCommands(model, update, switches, commands(server, model, setting_groups, sg_switches)).start()

    async def watch_parent() -> None:
        while os.getppid() == parent:  # the test run that started us is gone otherwise
            await asyncio.sleep(0.5)
        log.info("parent process exited")
        stop.set()

    watcher = asyncio.create_task(watch_parent())
    await stop.wait()
    watcher.cancel()
    await server.stop()
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scl", required=True, help="SCL file (one of examples/*.icd)")
    ap.add_argument("--ied", default=None, help="IED name in the SCL (default: the first)")
    ap.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0: OS-chosen)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="rust_server: %(message)s")
    return asyncio.run(serve(args))


if __name__ == "__main__":
    rc = main()
    sys.stderr.flush()
    # skip interpreter finalisation: the Rust runtime's threads can race it and abort
    # ("PyGILState_Release: thread state must be current"), which would turn exit 0 into a crash
    os._exit(rc)
