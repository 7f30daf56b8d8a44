#!/usr/bin/env python3
"""What rust-analyzer shows for the derive's errors when a Lua file changes.

Creates a crate in a temporary directory (a derived script whose Lua file starts broken),
starts `rust-analyzer` on it over LSP (stdio), and prints a timeline of the diagnostics it
publishes while the script: fixes the Lua file on disk (announced with
workspace/didChangeWatchedFiles, as editors do), saves the Rust file unchanged, edits the
struct, breaks the Lua file again, saves, edits the struct. The README's "In your editor"
section is what it showed.

Usage: tools/ra-probe.py nocheck|check   (check: rust-analyzer's checkOnSave, cargo check on
save). Set CARGO_TARGET_DIR to reuse a build; WARMUP (seconds, default 150) is the time left
for indexing and building the proc macro before the first edit.
"""
import json, os, subprocess, sys, tempfile, threading, time, queue

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = tempfile.mkdtemp(prefix="ra-probe-")
os.makedirs(ROOT + "/src")
os.makedirs(ROOT + "/lua")
with open(ROOT + "/Cargo.toml", "w") as f:
    f.write(f"""[package]
name = "ra-probe"
version = "0.1.0"
edition = "2024"

[dependencies]
redis-script = {{ path = "{REPO}/runtime" }}

[workspace]
""")
with open(ROOT + "/src/main.rs", "w") as f:
    f.write("""use redis_script::RedisScript;

#[derive(RedisScript)]
#[redis_script(path = "lua/incr.lua", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

fn main() {
    let _ = Incr { counter: "c" };
}
""")
CHECK_ON_SAVE = len(sys.argv) > 1 and sys.argv[1] == "check"
MAIN = os.path.join(ROOT, "src/main.rs")
LUA = os.path.join(ROOT, "lua/incr.lua")
GOOD = "return redis.call('INCR', KEYS[1])\n"
BAD = "return redis.call('INCR', KEYS[1], KEYS[2])\n"   # KEYS[2]: out of range, and wrong arity
T0 = time.time()

proc = subprocess.Popen(["rust-analyzer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL, env=os.environ)
inbox = queue.Queue()

def reader():
    while True:
        headers = {}
        while True:
            line = proc.stdout.readline()
            if not line:
                return
            line = line.decode().strip()
            if not line:
                break
            k, v = line.split(":", 1)
            headers[k.lower()] = v.strip()
        body = proc.stdout.read(int(headers["content-length"]))
        inbox.put(json.loads(body))

threading.Thread(target=reader, daemon=True).start()
next_id = [0]

def send(msg):
    data = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
    proc.stdin.flush()

def request(method, params):
    next_id[0] += 1
    send({"jsonrpc": "2.0", "id": next_id[0], "method": method, "params": params})
    return next_id[0]

def notify(method, params):
    send({"jsonrpc": "2.0", "method": method, "params": params})

uri = lambda p: "file://" + p
shown = {}   # uri -> list of diagnostics, as the editor would show them
version = [1]

def log(what):
    print(f"[{time.time()-T0:6.1f}s] {what}", flush=True)

def summary(diags):
    if not diags:
        return "(none)"
    return "; ".join(f"{d.get('source','?')} L{d['range']['start']['line']+1}:{d['range']['start']['character']+1} {d['message'].splitlines()[0][:110]}" for d in diags)

def pump(seconds, quiet_after=None):
    """Handle messages for `seconds`; answer server requests."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            msg = inbox.get(timeout=0.2)
        except queue.Empty:
            continue
        if "id" in msg and "method" in msg:   # server -> client request
            result = None
            if msg["method"] == "workspace/configuration":
                result = [config() for _ in msg["params"]["items"]]
            send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            continue
        if msg.get("method") == "textDocument/publishDiagnostics":
            p = msg["params"]
            name = os.path.relpath(p["uri"][7:], ROOT)
            shown[name] = p["diagnostics"]
            log(f"diagnostics for {name}: {summary(p['diagnostics'])}")

def config():
    return {"checkOnSave": CHECK_ON_SAVE, "check": {"command": "check"},
            "cargo": {"buildScripts": {"enable": True}}, "procMacro": {"enable": True},
            "diagnostics": {"enable": True}}

def write_lua(text, why):
    with open(LUA, "w") as f:
        f.write(text)
    log(f"--- {why}: lua/incr.lua on disk, then didChangeWatchedFiles (and didSave if open)")
    notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": uri(LUA), "type": 2}]})

def edit_main(why):
    version[0] += 1
    text = open(MAIN).read()
    text = text.replace("struct Incr<'a> {", "struct Incr<'a> { ", 1) if "struct Incr<'a> { " not in text else text.replace("struct Incr<'a> { ", "struct Incr<'a> {", 1)
    with open(MAIN, "w") as f:
        f.write(text)
    log(f"--- {why}: didChange + didSave of src/main.rs (a space in the struct)")
    notify("textDocument/didChange", {"textDocument": {"uri": uri(MAIN), "version": version[0]},
                                      "contentChanges": [{"text": text}]})
    notify("textDocument/didSave", {"textDocument": {"uri": uri(MAIN)}})

def save_main(why):
    log(f"--- {why}: didSave of src/main.rs, unchanged")
    notify("textDocument/didSave", {"textDocument": {"uri": uri(MAIN)}})

with open(LUA, "w") as f:
    f.write(BAD)
request("initialize", {"processId": os.getpid(), "rootUri": uri(ROOT),
    "capabilities": {"workspace": {"configuration": True, "didChangeWatchedFiles": {"dynamicRegistration": True}},
                     "textDocument": {"publishDiagnostics": {}, "synchronization": {"didSave": True}},
                     "window": {"workDoneProgress": True}},
    "initializationOptions": config()})
pump(2)
notify("initialized", {})
notify("textDocument/didOpen", {"textDocument": {"uri": uri(MAIN), "languageId": "rust", "version": 1, "text": open(MAIN).read()}})
log(f"opened src/main.rs with a broken lua/incr.lua (checkOnSave={CHECK_ON_SAVE}); waiting for indexing and proc-macro build")
pump(float(os.environ.get("WARMUP", "150")))
write_lua(GOOD, "1. fix the Lua file")
pump(25)
save_main("2. save the Rust file without editing it")
pump(40)
edit_main("3. edit the struct")
pump(40)
write_lua(BAD, "4. break the Lua file again")
pump(25)
save_main("5. save the Rust file without editing it")
pump(40)
edit_main("6. edit the struct")
pump(40)
with open(LUA, "w") as f:
    f.write(GOOD)
proc.kill()
