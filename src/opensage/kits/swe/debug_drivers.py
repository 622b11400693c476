"""The programs `debug` runs in the sandbox: a `bdb.Bdb` driver for Python commands and a gdb
Python script for compiled ones, with the shell lines that start each. They are source text,
not code of this process: they run under the sandbox's interpreter (or gdb's), take their
configuration as JSON on the command line, and write one JSON record per event behind the
call's separator, which `debug.parse` reads.
"""

# The Python driver: `python3 -c DRIVER CONFIG`. It runs the target (a script or a module) under
# a Bdb that only ever stops at the breakpoints, writes one JSON record per event on a copy of
# the original stdout (so a test runner that captures fd 1 cannot hide it), and lets the
# program run on unhindered once the hits reach the cap.
PY_DRIVER = r"""
import bdb, json, os, reprlib, runpy, sys, traceback
cfg = json.loads(sys.argv[1])
out = os.fdopen(os.dup(1), "w", buffering=1)
SEP = cfg["sep"]
short = reprlib.Repr()
short.maxstring = short.maxother = cfg["value_chars"]
short.maxlist = short.maxtuple = short.maxdict = short.maxset = 20
SKIP = (bdb.__file__, runpy.__file__, "<string>")

def emit(kind, **data):
    out.write("\n" + SEP + " " + json.dumps({"kind": kind, **data}) + "\n")
    out.flush()

def text(value):
    try:
        return short.repr(value)
    except Exception as exc:
        return "<repr failed: %s>" % type(exc).__name__

def stack_of(frame):
    frames = []
    while frame is not None and len(frames) < cfg["frames"]:
        name = frame.f_code.co_filename
        if name not in SKIP and not name.startswith("<frozen"):
            frames.append([name, frame.f_lineno, frame.f_code.co_name])
        frame = frame.f_back
    return frames

class Driver(bdb.Bdb):
    hits = 0
    def user_line(self, frame):
        key = (self.canonic(frame.f_code.co_filename), frame.f_lineno)
        if key in self.points and self.hits < cfg["max_hits"]:
            self.hits += 1
            values = []
            for expr in cfg["expressions"]:
                try:
                    values.append([expr, text(eval(expr, frame.f_globals, frame.f_locals))])
                except BaseException as exc:
                    values.append([expr, "<error: %s: %s>" % (type(exc).__name__, exc)])
            names = [] if cfg["expressions"] else [
                [k, text(v)] for k, v in list(frame.f_locals.items())[:20]
                if not (k.startswith("__") and k.endswith("__"))]
            emit("hit", n=self.hits, bp=self.points[key], file=key[0], line=key[1],
                 function=frame.f_code.co_name, values=values, locals=names,
                 stack=stack_of(frame))
            if self.hits >= cfg["max_hits"]:
                emit("capped")
                self.clear_all_breaks()
        self.set_continue()

d = Driver()
d.points = {}
for i, (file, line) in enumerate(cfg["breakpoints"]):
    err = d.set_break(d.canonic(file), line)
    if err:
        emit("bad_breakpoint", bp=i, message=err)
    else:
        d.points.setdefault((d.canonic(file), line), i)
code = 0
try:
    if cfg["module"]:
        sys.argv = [cfg["module"], *cfg["args"]]
        if sys.path[0] != "":
            sys.path.insert(0, "")
        d.runcall(runpy.run_module, cfg["module"], run_name="__main__", alter_sys=True)
    else:
        script = os.path.abspath(cfg["script"])
        sys.argv = [cfg["script"], *cfg["args"]]
        sys.path[0] = os.path.dirname(script)
        d.runcall(runpy.run_path, script, run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
except BaseException as exc:
    code = 1
    frames = [[f.filename, f.lineno, f.name] for f in traceback.extract_tb(exc.__traceback__)
              if f.filename not in SKIP and not f.filename.startswith("<frozen")]
    emit("exception", message="".join(traceback.format_exception_only(type(exc), exc)).strip(),
         stack=frames[::-1][:cfg["frames"]])
finally:
    sys.settrace(None)
emit("end", code=code, hits=d.hits)
sys.stdout.flush()
os._exit(code)
"""

# The gdb driver, a gdb Python script: breakpoints whose `stop` records and never stops, the
# program run to its end; a signal that stops it is reported with the stack, and hits past the
# cap stop it once so that every breakpoint can be disabled (which `stop` may not do).
GDB_DRIVER = r"""
import base64, json, gdb
cfg = json.loads(base64.b64decode(CONFIG).decode())
SEP = cfg["sep"]

def emit(kind, **data):
    gdb.write("\n" + SEP + " " + json.dumps({"kind": kind, **data}) + "\n")
    gdb.flush()

def text(value):
    try:
        s = str(value)
    except Exception as exc:
        s = "<error: %s>" % exc
    return s if len(s) <= cfg["value_chars"] else s[:cfg["value_chars"]] + "..."

def stack_of(frame):
    frames = []
    while frame is not None and len(frames) < cfg["frames"]:
        sal = frame.find_sal()
        name = sal.symtab.fullname() if sal.symtab else "??"
        frames.append([name, sal.line, frame.name() or "??"])
        try:
            frame = frame.older()
        except gdb.error:
            break
    return frames

def frame_locals(frame):
    found = []
    try:
        block = frame.block()
    except RuntimeError:
        return found
    while block is not None and len(found) < 20:
        for sym in block:
            if (sym.is_argument or sym.is_variable) and len(found) < 20:
                try:
                    found.append([sym.name, text(sym.value(frame))])
                except Exception as exc:
                    found.append([sym.name, "<error: %s>" % exc])
        if block.function is not None:
            break
        block = block.superblock
    return found

state = {"hits": 0, "capped": False, "exit": None, "signal": None}

class Point(gdb.Breakpoint):
    def stop(self):
        if state["hits"] >= cfg["max_hits"]:
            return False
        state["hits"] += 1
        frame = gdb.selected_frame()
        sal = frame.find_sal()
        values = []
        for expr in cfg["expressions"]:
            try:
                values.append([expr, text(gdb.parse_and_eval(expr))])
            except Exception as exc:
                values.append([expr, "<error: %s>" % exc])
        emit("hit", n=state["hits"], bp=self.index,
             file=sal.symtab.fullname() if sal.symtab else "??",
             line=sal.line, function=frame.name() or "??", values=values,
             locals=[] if cfg["expressions"] else frame_locals(frame), stack=stack_of(frame))
        if state["hits"] >= cfg["max_hits"]:
            state["capped"] = True
            emit("capped")
            return True
        return False

def on_exit(event):
    state["exit"] = getattr(event, "exit_code", None)

def on_stop(event):
    if isinstance(event, gdb.SignalEvent):
        state["signal"] = event.stop_signal

for setting in ("pagination off", "confirm off", "width 0", "print pretty off",
                "breakpoint pending on", "print elements 50"):
    gdb.execute("set " + setting)
gdb.events.exited.connect(on_exit)
gdb.events.stop.connect(on_stop)
points = []
for i, spec in enumerate(cfg["breakpoints"]):
    try:
        bp = Point(spec)
        bp.index = i
        points.append(bp)
        if bp.pending:
            emit("bad_breakpoint", bp=i,
                 message="no such location in the program's debug information")
    except Exception as exc:
        emit("bad_breakpoint", bp=i, message=str(exc))
try:
    gdb.execute("run")
    while gdb.selected_inferior().pid and state["exit"] is None:
        if state["signal"] is not None:
            frame = gdb.selected_frame()
            emit("signal", name=state["signal"], stack=stack_of(frame))
            gdb.execute("kill")
            break
        if state["capped"]:
            for bp in points:
                bp.enabled = False
            state["capped"] = False
            gdb.execute("continue")
            continue
        break
except gdb.error as exc:
    emit("error", message=str(exc))
emit("end", code=state["exit"], hits=state["hits"])
"""

GDB_SCRIPT = """dir=$(mktemp -d "${{TMPDIR:-/tmp}}/opensage-debug.XXXXXX") || exit 97
cat > "$dir/drive.py" <<'{eof}'
{script}
{eof}
gdb -q -nx -batch -x "$dir/drive.py" --args {argv} </dev/null
status=$?
rm -rf "$dir"
exit $status
"""

PY_SCRIPT = """py=python3
if [ -x ./.venv/bin/python ]; then py=./.venv/bin/python; fi
exec {python} -c {driver} {config} </dev/null
"""
