//! Each check, on scripts that must fail and on valid scripts that must pass.

use super::check_redis_calls;
use crate::{Declaration, Diagnostic, Field, KeyTemplate, Lint, Location, Target, parse_shebang};

fn keys(count: usize) -> Declaration {
    Declaration {
        name: "Script".into(),
        keys: (1..=count)
            .map(|n| Field::single(format!("key{n}")))
            .collect(),
        args: vec![Field::variadic("args")],
        standalone_only: false,
        extra_commands: vec![],
        allow: vec![],
        returns: Default::default(),
    }
}

fn tagged(template: &str) -> Declaration {
    Declaration {
        name: "Script".into(),
        keys: vec![Field::single("user").with_template(KeyTemplate::parse(template).unwrap())],
        args: vec![Field::variadic("args")],
        standalone_only: false,
        extra_commands: vec![],
        allow: vec![],
        returns: Default::default(),
    }
}

fn check_with(source: &str, declaration: &Declaration) -> Vec<Diagnostic> {
    check_on(source, declaration, Target::DEFAULT)
}

fn check_on(source: &str, declaration: &Declaration, target: Target) -> Vec<Diagnostic> {
    let ast = full_moon::parse(source).expect("test scripts are valid Lua");
    let shebang = parse_shebang(source).expect("test shebangs are valid");
    check_redis_calls(&ast, source, declaration, shebang.as_ref(), target)
        .into_iter()
        // `unpack` of the variadic ARGV these declarations have, tested in walker/replies.rs.
        .filter(|diagnostic| diagnostic.lint != Lint::UnboundedUnpack)
        .collect()
}

fn target(text: &str) -> Target {
    text.parse().unwrap()
}

/// The lints of a script's diagnostics on `target`.
fn lints_on(source: &str, target_text: &str) -> Vec<Lint> {
    check_on(source, &keys(2), target(target_text))
        .into_iter()
        .map(|diagnostic| diagnostic.lint)
        .collect()
}

#[test]
fn newer_commands_need_a_newer_minimum_server() {
    let hexpire = "return redis.call('HEXPIRE', KEYS[1], 60, 'FIELDS', 1, 'f')";
    assert_eq!(lints_on(hexpire, "redis-7.0"), [Lint::CommandNotOnTarget]);
    assert_eq!(lints_on(hexpire, "redis-7.2"), [Lint::CommandNotOnTarget]);
    assert_eq!(lints_on(hexpire, "redis-7.4"), []);
    assert_eq!(lints_on(hexpire, "redis-8.2"), []);
    assert_eq!(lints_on(hexpire, "valkey-8.1"), [Lint::CommandNotOnTarget]);
    assert_eq!(lints_on(hexpire, "valkey-9.0"), []);
    let diagnostic = check_on(hexpire, &keys(2), Target::DEFAULT).remove(0);
    assert_eq!(
        diagnostic.message,
        "`HEXPIRE` is not a command of redis-7.0, the oldest server this script must run on \
         (Redis has it since 7.4, Valkey since 9.0): `redis.call('HEXPIRE', KEYS[1], 60, \
         'FIELDS', 1, 'f')`"
    );
    assert!(
        diagnostic
            .help
            .contains("server = \"redis-7.4\"` in the crate's Cargo.toml"),
        "{}",
        diagnostic.help
    );
    // A script that probes with `redis.pcall` handles the error itself.
    assert_eq!(
        lints_on(
            "return redis.pcall('HEXPIRE', KEYS[1], 60, 'FIELDS', 1, 'f')",
            "redis-7.0"
        ),
        []
    );
}

#[test]
fn commands_of_one_family_only() {
    // Valkey's DELIFEQ (9.0) and COMMANDLOG (8.1); Redis's vector sets (8.0).
    let delifeq = "return redis.call('DELIFEQ', KEYS[1], ARGV[1])";
    assert_eq!(lints_on(delifeq, "valkey-9.0"), []);
    assert_eq!(lints_on(delifeq, "valkey-8.1"), [Lint::CommandNotOnTarget]);
    assert_eq!(lints_on(delifeq, "redis-8.2"), [Lint::CommandNotOnTarget]);
    let help = check_on(delifeq, &keys(2), target("redis-8.2"))
        .remove(0)
        .help;
    assert!(help.contains("server = \"valkey-9.0\""), "{help}");
    let vcard = "return redis.call('VCARD', KEYS[1])";
    assert_eq!(lints_on(vcard, "redis-8.0"), []);
    assert_eq!(lints_on(vcard, "redis-7.4"), [Lint::CommandNotOnTarget]);
    assert_eq!(lints_on(vcard, "valkey-9.1"), [Lint::CommandNotOnTarget]);
    // Subcommands too: CLIENT NO-TOUCH is Redis 7.2 and Valkey 7.2 (noscript anyway), SCRIPT
    // SHOW is Valkey 8.0.
    let show = "return redis.pcall('SCRIPT', 'SHOW', ARGV[1])";
    assert_eq!(
        lints_on(show, "valkey-8.0"),
        [Lint::CommandNotAllowedInScripts]
    );
    let show = "return redis.call('OBJECT', 'FREQQ', KEYS[1])";
    assert_eq!(lints_on(show, "valkey-8.0"), [Lint::UnknownCommand]);
}

#[test]
fn valkeys_server_global_is_its_redis_table() {
    let call = "return server.call('GET', KEYS[1])";
    for valkey in ["valkey-7.2", "valkey-8.1", "valkey-9.1"] {
        assert_eq!(lints_on(call, valkey), [], "{valkey}");
    }
    // Checked as `redis.call` is: the command, its arity, its keys.
    assert_eq!(
        lints_on("return server.call('GETT', KEYS[1])", "valkey-8.1"),
        [Lint::UnknownCommand]
    );
    assert_eq!(
        lints_on("return server.pcall('GET', KEYS[1], ARGV[1])", "valkey-8.1"),
        [Lint::WrongArity]
    );
    assert_eq!(
        lints_on("return server.call('GET', 'literal')", "valkey-8.1"),
        [Lint::UndeclaredKey]
    );
    assert_eq!(
        lints_on(
            "return server.call('DELIFEQ', KEYS[1], ARGV[1])",
            "valkey-8.1"
        ),
        [Lint::CommandNotOnTarget]
    );
    // Its members are those of `redis` on the target.
    let members = "server.log(server.LOG_NOTICE, server.SERVER_NAME .. server.VALKEY_VERSION)\n\
                   server.setresp(3)\n\
                   return server.sha1hex(redis.VALKEY_VERSION_NUM .. KEYS[1] .. KEYS[2])";
    assert_eq!(lints_on(members, "valkey-7.2"), []);
    assert_eq!(
        lints_on("return server.sha1hexx(KEYS[1] .. KEYS[2])", "valkey-8.1"),
        [Lint::UnknownLibraryMember]
    );
    // Modifying it is modifying a read-only table of the sandbox.
    assert_eq!(
        lints_on(
            "server.x = 1\nreturn redis.call('GET', KEYS[1])",
            "valkey-8.1"
        ),
        [Lint::SandboxTableModified]
    );
}

#[test]
fn another_servers_globals_say_which_server_has_them() {
    let call = "return server.call('GET', KEYS[1])";
    for redis in ["redis-7.0", "redis-7.4", "redis-8.2"] {
        assert_eq!(lints_on(call, redis), [Lint::GlobalNotOnTarget], "{redis}");
    }
    let diagnostic = check_on(call, &keys(2), Target::DEFAULT).remove(0);
    assert_eq!(
        diagnostic.message,
        "`server.call('GET', KEYS[1])` uses `server`, which is not a global of the Lua sandbox \
         of redis-7.0, the oldest server this script must run on (only Valkey has it, since \
         7.2): the script fails with \"Script attempted to access nonexistent global variable \
         'server'\""
    );
    assert_eq!(
        diagnostic.help,
        "write `redis` instead, the same table on every server; or, Redis does not have it at \
         all; if the crate runs on Valkey only, declare that: `[package.metadata.redis-script] \
         server = \"valkey-7.2\"` in the crate's Cargo.toml, or #[redis_script(server = \
         \"valkey-7.2\")] on the struct"
    );
    assert_eq!(diagnostic.location, Some(Location { line: 1, column: 8 }));
    // Reported once, as any unknown global.
    let twice = "server.call('SET', KEYS[1], ARGV[1])\nreturn server.call('GET', KEYS[2])";
    assert_eq!(lints_on(twice, "redis-8.2"), [Lint::GlobalNotOnTarget]);
    // A global no server has stays unknown.
    assert_eq!(
        lints_on("return servr.call('GET', KEYS[1])", "valkey-8.1"),
        [Lint::UnknownGlobal]
    );
}

#[test]
fn another_servers_members_say_which_server_has_them() {
    let read = "local name = redis.SERVER_NAME\nreturn redis.call('GET', KEYS[1])";
    assert_eq!(lints_on(read, "valkey-7.2"), []);
    assert_eq!(
        lints_on(read, "redis-8.2"),
        [Lint::LibraryMemberNotOnTarget]
    );
    let diagnostic = check_on(read, &keys(2), target("redis-8.2")).remove(0);
    assert_eq!(
        diagnostic.message,
        "`redis.SERVER_NAME` is not a member of `redis` on redis-8.2, the oldest server this \
         script must run on (only Valkey has it, since 7.2): reading it gives `nil`"
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 1,
            column: 20
        })
    );
    // A script that checks for it may say so.
    let probe = "if redis.VALKEY_VERSION then return 1 end -- redis-script: allow(library_member_not_on_target)\n\
                 return redis.call('GET', KEYS[1])";
    let ast = full_moon::parse(probe).unwrap();
    let lints: Vec<Lint> = check_redis_calls(&ast, probe, &keys(2), None, Target::DEFAULT)
        .into_iter()
        .map(|diagnostic| diagnostic.lint)
        .collect();
    assert_eq!(lints, [Lint::LibraryMemberNotOnTarget]); // allowed later, by the analysis
    assert!(Lint::LibraryMemberNotOnTarget.allowable());
    assert!(!Lint::GlobalNotOnTarget.allowable());
}

#[test]
fn os_clock_came_between_the_versions_run() {
    // Redis 7.4 and Valkey 8.0 added `os` with `clock` only; the servers run are Redis 7.0 and
    // 8.2, Valkey 8.1 and later, so these dates come from each server's source history.
    let clock = "local start = os.clock()\nreturn redis.call('GET', KEYS[1])";
    for (target_text, expected) in [
        ("redis-7.0", vec![Lint::GlobalNotOnTarget]),
        ("redis-7.2", vec![Lint::GlobalNotOnTarget]),
        ("redis-7.4", vec![]),
        ("redis-8.2", vec![]),
        ("valkey-7.2", vec![Lint::GlobalNotOnTarget]),
        ("valkey-8.0", vec![]),
        ("valkey-9.1", vec![]),
    ] {
        assert_eq!(lints_on(clock, target_text), expected, "{target_text}");
    }
    let help = check_on(clock, &keys(2), target("redis-7.2"))
        .remove(0)
        .help;
    assert!(help.contains("server = \"redis-7.4\""), "{help}");
    let help = check_on(clock, &keys(2), target("valkey-7.2"))
        .remove(0)
        .help;
    assert!(help.contains("server = \"valkey-8.0\""), "{help}");
    // The rest of Lua's `os` is left out everywhere: a sandboxed library where there is no
    // `os`, a member no server has where there is.
    let time = "local now = os.time()\nreturn redis.call('GET', KEYS[1])";
    assert_eq!(lints_on(time, "redis-7.0"), [Lint::SandboxedLibrary]);
    assert_eq!(lints_on(time, "valkey-7.2"), [Lint::SandboxedLibrary]);
    assert_eq!(lints_on(time, "redis-7.4"), [Lint::UnknownLibraryMember]);
    let help = check_on(time, &keys(2), target("valkey-8.1"))
        .remove(0)
        .help;
    assert!(
        help.starts_with(
            "the sandbox's `os` has only `clock`; for the time, use `redis.call('TIME')`; fix the \
             name; the members of `os` are clock"
        ),
        "{help}"
    );
}

#[test]
fn definitions_follow_the_target_version() {
    // `ZRANK ... WITHSCORE` came with Redis 7.2 (dated by COMMAND DOCS' history).
    let withscore = "return redis.call('ZRANK', KEYS[1], ARGV[1], 'WITHSCORE')";
    assert_eq!(lints_on(withscore, "redis-7.0"), [Lint::WrongArity]);
    assert_eq!(lints_on(withscore, "redis-7.2"), []);
    assert_eq!(lints_on(withscore, "valkey-7.2"), []);
    let help = check_on(withscore, &keys(2), Target::DEFAULT)
        .remove(0)
        .help;
    assert!(
        help.contains("redis-7.0 does not accept this call, Redis 7.2 and later do")
            && help.contains("\"redis-7.2\""),
        "{help}"
    );
    // Blocking commands were `noscript` in Redis 7.0 and are not in later versions run.
    let blpop = "return redis.call('BLPOP', KEYS[1], 0)";
    assert_eq!(
        lints_on(blpop, "redis-7.0"),
        [Lint::CommandNotAllowedInScripts]
    );
    assert_eq!(lints_on(blpop, "redis-8.2"), []);
    assert_eq!(lints_on(blpop, "valkey-8.1"), []);
}

fn check(source: &str) -> Vec<Diagnostic> {
    check_with(source, &keys(2))
}

#[track_caller]
fn passes(source: &str) {
    let diagnostics = check(source);
    assert!(diagnostics.is_empty(), "{source}\n{diagnostics:#?}");
}

#[track_caller]
fn passes_with(source: &str, declaration: &Declaration) {
    let diagnostics = check_with(source, declaration);
    assert!(diagnostics.is_empty(), "{source}\n{diagnostics:#?}");
}

/// The one diagnostic of a script, which must contain every `expected` text.
#[track_caller]
fn fails_with(source: &str, declaration: &Declaration, expected: &[&str]) -> Diagnostic {
    let diagnostics = check_with(source, declaration);
    assert_eq!(diagnostics.len(), 1, "{source}\n{diagnostics:#?}");
    let diagnostic = diagnostics.into_iter().next().unwrap();
    let text = format!("{}\n{}", diagnostic.message, diagnostic.help);
    for part in expected {
        assert!(text.contains(part), "{source}\nmissing {part:?} in\n{text}");
    }
    diagnostic
}

#[track_caller]
fn fails(source: &str, expected: &[&str]) -> Diagnostic {
    fails_with(source, &keys(2), expected)
}

// --- 1. Unknown commands ---------------------------------------------------------------------

#[test]
fn unknown_command_suggests_the_closest_names() {
    let diagnostic = fails(
        "local n = 1\nreturn redis.call('HINCRBYY', KEYS[1], 'f', 1)",
        &[
            "unknown Redis command `HINCRBYY`",
            "did you mean HINCRBY?",
            "redis.call('HINCRBYY', KEYS[1], 'f', 1)",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 2,
            column: 19
        })
    );
    fails("redis.call('lpsuh', KEYS[1], 'x')", &["`lpsuh`", "LPUSH"]);
    fails(
        "redis.call('frobnicate')",
        &["unknown Redis command `frobnicate`"],
    );
}

#[test]
fn module_commands_and_protected_unknown_commands_pass() {
    // Valid on a server with the module loaded: no name, arity or key checks.
    passes("return redis.call('JSON.SET', KEYS[1], '$', ARGV[1])");
    passes("return redis.call('BF.ADD', KEYS[1], ARGV[1])");
    passes("return redis.call('FT.SEARCH', 'idx', ARGV[1])");
    passes("return redis.call('ts.add', 'literal:key', '*', ARGV[1])");
    passes("#!lua flags=no-writes\nreturn redis.call('JSON.SET', KEYS[1], '$', ARGV[1])");
    // `redis.pcall` gives the script the error as a reply, which it may handle.
    passes("local r = redis.pcall('HINCRBYY', KEYS[1], 'f', 1)\nreturn r");
    passes("return redis.pcall('OBJECT', 'ENCODNG', KEYS[1])");
    passes("return pcall(redis.call, 'HINCRBYY', KEYS[1], 'f', 1)");
    fails(
        "return redis.call('HINCRBYY', KEYS[1], 'f', 1)",
        &["did you mean HINCRBY?"],
    );
    // A known command is still checked under pcall.
    fails(
        "return redis.pcall('GET', KEYS[1], KEYS[2])",
        &["exactly 1 argument"],
    );
}

#[test]
fn several_possible_names_fail_only_when_all_do() {
    passes(
        "local op = 'INCRBY'\nif ARGV[1] == '1' then op = 'INCR' end\nif op == 'INCR' then return redis.call(op, KEYS[1]) end\nreturn redis.call(op, KEYS[1], ARGV[1])",
    );
    // noscript, no-writes and keys: one name that passes is enough.
    passes("local c = 'WATCH'\nif ARGV[1] then c = 'EXISTS' end\nreturn redis.call(c, KEYS[1])");
    passes(
        "#!lua flags=no-writes\nlocal c = ARGV[1] == 'w' and 'DEL' or 'EXISTS'\nreturn redis.call(c, KEYS[1])",
    );
    passes("local c = ARGV[1] and 'GET' or 'PUBLISH'\nreturn redis.call(c, 'news', ARGV[1])");
    passes("local c = ARGV[1] and 'GTE' or 'GET'\nreturn redis.call(c, KEYS[1])");
    // Every name fails: each failure is reported.
    let diagnostics = check("local c = ARGV[1] and 'GTE' or 'GTT'\nreturn redis.call(c, KEYS[1])");
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    assert!(diagnostics[0].message.contains("`GTE`") && diagnostics[1].message.contains("`GTT`"));
    let diagnostics =
        check("local c = ARGV[1] and 'GET' or 'WATCH'\nreturn redis.call(c, KEYS[1], KEYS[2])");
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    // The same key problem under both names is reported once.
    fails(
        "local c = ARGV[1] and 'GET' or 'STRLEN'\nreturn redis.call(c, 'config')",
        &["accesses the key `config`"],
    );
}

#[test]
fn huge_key_counts_are_no_panic() {
    const HUGE: &str = "'9223372036854775807'";
    for call in [
        format!("redis.call('ZUNIONSTORE', KEYS[1], {HUGE}, KEYS[2])"),
        format!("redis.call('LMPOP', {HUGE}, KEYS[1], 'LEFT')"),
        format!("redis.call('SINTERCARD', {HUGE}, KEYS[1])"),
        format!("redis.call('ZINTER', {HUGE}, KEYS[1])"),
        format!("redis.call('ZDIFF', {HUGE}, KEYS[1])"),
        format!("redis.call('ZDIFF', {HUGE}, KEYS[1], unpack(KEYS))"),
        "redis.call('ZUNIONSTORE', KEYS[1], 9223372036854775807, 'x', unpack(ARGV))".to_owned(),
        "redis.call('ZINTER', '-9223372036854775808', KEYS[1])".to_owned(),
    ] {
        let diagnostics = check(&format!("return {call}"));
        // Keys past the words given are not known: at most the spread's are reported.
        assert!(
            diagnostics
                .iter()
                .all(|d| d.message.contains("ARGV") || d.message.contains("`x`")),
            "{call}\n{diagnostics:#?}"
        );
    }
}

#[test]
fn command_names_are_case_insensitive_and_followed_through_locals() {
    passes("return redis.call('hIncrBy', KEYS[1], 'f', 1)");
    passes(
        "local cmd = ARGV[1] == 'left' and 'LPUSH' or 'RPUSH'\nreturn redis.call(cmd, KEYS[1], 'x')",
    );
    fails(
        "local cmd = 'GTE'\nreturn redis.call(cmd, KEYS[1])",
        &["`GTE`", "GET"],
    );
    fails(
        "local call = redis.call\nreturn call('GETT', KEYS[1])",
        &["`GETT`"],
    );
}

#[test]
fn extra_commands_name_commands_of_servers_not_covered() {
    // DELEX (Redis 8.4) and a CLIENT subcommand of no server of the table.
    let delex = "return redis.call('DELEX', KEYS[1], 'IFEQ', ARGV[1])";
    let nohello = "redis.call('CLIENT', 'NOHELLO', 'ON')\nreturn redis.call('GET', KEYS[1])";
    fails(
        delex,
        &[
            "unknown Redis command `DELEX`",
            "Redis 7.0 to 8.2, Valkey 7.2 to 9.1",
            r#"#[redis_script(extra_commands = ["DELEX"])]"#,
        ],
    );
    fails(
        nohello,
        &[
            "`CLIENT` has no subcommand `NOHELLO`",
            r#"extra_commands = ["CLIENT|NOHELLO"]"#,
        ],
    );
    let mut newer = keys(1);
    newer.extra_commands = vec!["delex".into(), "client|nohello".into()];
    passes_with(delex, &newer);
    passes_with(nohello, &newer);
    // Only what is named: a typo elsewhere, and other unknown subcommands, are still errors.
    fails_with(
        "return redis.call('DELEXX', KEYS[1])",
        &newer,
        &["unknown Redis command `DELEXX`"],
    );
    fails_with(
        "return redis.call('CLIENT', 'NO-EVICTS', 'ON')",
        &newer,
        &["`CLIENT` has no subcommand `NO-EVICTS`"],
    );
}

#[test]
fn unknown_subcommand_lists_the_known_ones() {
    let diagnostic = fails(
        "return redis.call('OBJECT', 'ENCODNG', KEYS[1])",
        &[
            "`OBJECT` has no subcommand `ENCODNG`",
            "did you mean ENCODING?",
            "FREQ",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 1,
            column: 29
        })
    );
    passes("return redis.call('object', 'encoding', KEYS[1])");
    passes("return redis.call('XINFO', 'STREAM', KEYS[1])");
    passes("return redis.call('OBJECT', ARGV[1], KEYS[1])"); // which subcommand cannot be known
}

// --- 2. Arity --------------------------------------------------------------------------------

#[test]
fn wrong_argument_counts() {
    fails(
        "return redis.call('GET', KEYS[1], KEYS[2])",
        &[
            "`GET` takes exactly 1 argument after its name",
            "passes 2",
            "`GET key`",
        ],
    );
    fails(
        "redis.call('SET', KEYS[1])",
        &["at least 2 arguments", "passes 1", "SET key value"],
    );
    fails(
        "redis.call('HSET', KEYS[1], (ARGV[1]))",
        &["`HSET` takes at least 3"],
    );
    fails(
        "return redis.call('OBJECT', 'ENCODING')",
        &["`OBJECT ENCODING` takes exactly 1"],
    );
    fails(
        "return redis.call('OBJECT')",
        &["without a subcommand", "ENCODING"],
    );
    // `COMMAND` alone lists every command (arity -1).
    passes("return redis.call('COMMAND')");
    passes("return redis.call('command', 'count')");
    fails("return redis.call()", &["names no command"]);
    fails(
        "return redis.call('GET', KEYS[1], KEYS[2], unpack(ARGV))",
        &["passes 2 or more"],
    );
}

#[test]
fn counts_that_are_not_static_pass() {
    passes("return redis.call('DEL', unpack(KEYS))");
    passes("return redis.call('GET', KEYS[1], unpack(ARGV))"); // ARGV may be empty
    passes("return redis.call('HSET', KEYS[1], unpack(ARGV))");
    passes("local function f(...) return redis.call('RPUSH', KEYS[1], ...) end return f('a')");
    passes("return redis.call('SET', KEYS[1], ARGV[1], 'EX', 10)");
    passes("return redis.call 'PING'");
}

// --- 3. noscript -----------------------------------------------------------------------------

#[test]
fn noscript_commands() {
    fails(
        "redis.call('WATCH', KEYS[1])",
        &[
            "`WATCH` cannot be called from a script",
            "noscript",
            "atomically",
        ],
    );
    fails("redis.call('MULTI')", &["`MULTI`"]);
    fails(
        "return redis.call('EVAL', 'return 1', 0)",
        &["`EVAL`", "other scripts"],
    );
    fails(
        "redis.call('SUBSCRIBE', 'news')",
        &["`SUBSCRIBE`", "PUBLISH"],
    );
    fails(
        "redis.call('CLIENT', 'KILL', '1.2.3.4:5')",
        &["`CLIENT KILL`"],
    );
    fails(
        "return redis.call('BLPOP', KEYS[1], 0)",
        &["`BLPOP`", "cannot block"],
    );
    passes("return redis.call('PUBLISH', 'news', ARGV[1])");
    passes("return redis.call('CLIENT', 'HELP')");
}

// --- 4. no-writes ----------------------------------------------------------------------------

#[test]
fn writes_in_a_read_only_script() {
    let diagnostic = fails(
        "#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], ARGV[1])",
        &[
            "`SET` writes",
            "no-writes",
            "Write commands are not allowed from read-only scripts",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 2,
            column: 19
        })
    );
    passes("#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])");
    passes("return redis.call('SET', KEYS[1], ARGV[1])");
    passes("#!lua flags=no-writes\nreturn redis.call('XINFO', 'STREAM', KEYS[1])");
    // Refused by Redis 7.0 in a no-writes script, though `COMMAND INFO` lists no flag for it.
    fails(
        "#!lua flags=no-writes\nreturn redis.call('PUBLISH', 'news', ARGV[1])",
        &["`PUBLISH` may replicate", "no-writes"],
    );
    fails(
        "#!lua flags=no-writes\nreturn redis.call('PFCOUNT', KEYS[1])",
        &["`PFCOUNT` may replicate"],
    );
}

// --- 5. Undeclared keys ----------------------------------------------------------------------

#[test]
fn literal_keys_are_undeclared() {
    let diagnostic = fails(
        "local v = redis.call('GET', KEYS[1])\nreturn redis.call('GET', 'config:flags')",
        &[
            "accesses the key `config:flags`",
            "not receive in KEYS",
            "no-cluster",
            "standalone_only",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 2,
            column: 26
        })
    );
    fails(
        "redis.call('MSET', KEYS[1], 'v', 'other', 'v')",
        &["`other`"],
    );
    fails(
        "return redis.call('XREAD', 'STREAMS', 'events', '0')",
        &["`events`"],
    );
    fails(
        "return redis.call('ZUNIONSTORE', KEYS[1], 2, KEYS[2], 'z')",
        &["`z`"],
    );
    fails(
        "return redis.call('MIGRATE', ARGV[1], ARGV[2], 'k', 0, 5000)",
        &["`k`"],
    );
    fails(
        "local key = 'counter'\nreturn redis.call('INCR', key)",
        &["`counter`"],
    );
}

#[test]
fn keys_built_from_argv_are_undeclared() {
    fails(
        "return redis.call('GET', ARGV[1])",
        &["a key built from ARGV (`ARGV[1]`)"],
    );
    fails(
        "return redis.call('SET', 'lock:' .. ARGV[1], 1)",
        &["built from ARGV", "'lock:' .. ARGV[1]"],
    );
    fails(
        "local k = string.format('lock:%s', ARGV[1])\nreturn redis.call('DEL', k)",
        &["from ARGV"],
    );
    fails(
        "for _, k in ipairs(ARGV) do redis.call('DEL', k) end",
        &["from ARGV"],
    );
    fails("return redis.call('DEL', unpack(ARGV))", &["from ARGV"]);
    fails("return redis.call('GET', ARGV[1]:lower())", &["from ARGV"]);
}

#[test]
fn undeclared_key_messages_say_when_a_cluster_refuses() {
    let plain = fails("return redis.call('GET', 'config')", &["non local key"]);
    assert!(!plain.message.contains("same slot"), "{}", plain.message);
    fails(
        "#!lua\nreturn redis.call('GET', 'config')",
        &["keys that do not hash to the same slot", "non local key"],
    );
    let crossing = fails(
        "#!lua flags=allow-cross-slot-keys\nreturn redis.call('GET', ARGV[1])",
        &["non local key"],
    );
    assert!(
        !crossing.message.contains("same slot"),
        "{}",
        crossing.message
    );
    fails(
        "return redis.call('GET', KEYS[1] .. ':meta')",
        &["another slot", "non local key"],
    );
}

#[test]
fn migrate_with_the_keys_form_ignores_its_empty_key() {
    passes("return redis.call('MIGRATE', ARGV[1], ARGV[2], '', 0, 5000, 'KEYS', KEYS[1])");
    passes("return redis.call('MIGRATE', ARGV[1], ARGV[2], '', 0, 5000, 'KEYS', unpack(KEYS))");
    fails(
        "return redis.call('MIGRATE', ARGV[1], ARGV[2], '', 0, 5000, 'KEYS', 'other')",
        &["`other`"],
    );
}

#[test]
fn calls_through_pcall_and_brackets_are_checked() {
    fails(
        "return pcall(redis.call, 'WATCH', KEYS[1])",
        &[
            "`WATCH` cannot be called from a script",
            "pcall(redis.call, 'WATCH', KEYS[1])",
        ],
    );
    fails("return pcall(redis.call, 'GET', 'config')", &["`config`"]);
    fails(
        "return pcall(redis.pcall, 'GET')",
        &["`GET` takes exactly 1"],
    );
    fails(
        "return pcall(redis.call)",
        &["names no command", "pcall(redis.call, 'GET'"],
    );
    passes("return pcall(redis.call, 'GET', KEYS[1])");
    passes("local ok = pcall(error, 'x')\nlocal p = pcall\nreturn p(redis.call, 'INCR', KEYS[1])");
    fails("return redis['call']('GETT', KEYS[1])", &["`GETT`"]);
    fails("return redis[\"pcall\"]('WATCH', KEYS[1])", &["`WATCH`"]);
    fails(
        "local k = string['format']('%s', ARGV[1])\nreturn redis.call('GET', k)",
        &["from ARGV"],
    );
    passes("return redis[ARGV[1]]('GETT', KEYS[1])");
}

#[test]
fn values_that_are_not_keys_pass() {
    passes("return redis.call('SET', KEYS[1], 'literal value', 'EX', ARGV[1])");
    passes("return redis.call('MSET', KEYS[1], ARGV[1], KEYS[2], ARGV[2])");
    passes("return redis.call('PUBLISH', 'channel', ARGV[1])");
    passes("return redis.call('SPUBLISH', 'channel', ARGV[1])"); // a shard channel is not a key
    passes("return redis.call('ZADD', KEYS[1], 'NX', 1, 'member')");
    passes("return redis.call('XREAD', 'COUNT', 10, 'STREAMS', KEYS[1], '0')");
}

#[test]
fn declared_keys_pass_however_they_travel() {
    passes("local k = KEYS[1]\nlocal alias = k\nreturn redis.call('GET', alias)");
    passes("for _, key in ipairs(KEYS) do redis.call('DEL', key) end");
    passes("for i = 1, #KEYS do redis.call('DEL', KEYS[i]) end");
    passes("return redis.call('DEL', unpack(KEYS))");
    passes("local a, b = KEYS[1], KEYS[2]\nreturn redis.call('RENAME', a, b)");
    passes("return redis.call('GET', tostring(KEYS[1]))");
    passes("local k = KEYS[2] or KEYS[1]\nreturn redis.call('GET', k)");
}

#[test]
fn what_the_analysis_cannot_follow_passes() {
    passes("local function get(key) return redis.call('GET', key) end\nreturn get(KEYS[1])");
    passes("local t = cjson.decode(ARGV[1])\nreturn redis.call('GET', t.key)");
    passes("local k = redis.call('GET', KEYS[1])\nreturn redis.call('GET', k)");
    passes("local keys = {KEYS[1]}\nreturn redis.call('GET', keys[1])");
    // Reassigned in a loop, a branch, or after a function that captured it: unknown.
    passes(
        "local k = 'x'\nfor i = 1, 2 do\n  if i == 2 then redis.call('GET', k) end\n  k = KEYS[1]\nend",
    );
    passes("local k = KEYS[1]\nif ARGV[1] then k = 'other' end\nreturn redis.call('GET', k)");
    passes(
        "local k = 'x'\nlocal function f() return redis.call('GET', k) end\nk = KEYS[1]\nreturn f()",
    );
}

#[test]
fn derived_keys_need_a_hash_tag() {
    let diagnostic = fails(
        "local k = KEYS[1]\nlocal meta = k .. ':meta'\nreturn redis.call('HGETALL', meta)",
        &[
            "a key derived from `KEYS[1]`",
            "`key1`",
            "no key template with a hash tag",
            "#[key(\"{{user:{}}}\")]",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 3,
            column: 30
        })
    );
    passes_with(
        "return redis.call('GET', KEYS[1] .. ':meta')",
        &tagged("{{user:{}}}"),
    );
    passes_with(
        "return redis.call('GET', KEYS[1] .. ':meta')",
        &tagged("cart:{{{}}}"),
    );
    passes_with(
        "return redis.call('GET', 'v2:' .. KEYS[1])",
        &tagged("{{user:{}}}"),
    );
    passes_with(
        "return redis.call('GET', string.format('%s:meta', KEYS[1]))",
        &tagged("{{u{}}}"),
    );
    passes_with(
        "return redis.call('GET', KEYS[1] .. ARGV[1])",
        &tagged("{{user:{}}}"),
    );
    fails_with(
        "return redis.call('GET', KEYS[1] .. ':meta')",
        &tagged("{}:x"),
        &["no key template"],
    );
    fails_with(
        "return redis.call('GET', '{v2}' .. KEYS[1])",
        &tagged("{{user:{}}}"),
        &["`{v2}`", "contains `{`"],
    );
    fails_with(
        "return redis.call('GET', ARGV[1] .. KEYS[1])",
        &tagged("{{user:{}}}"),
        &["from ARGV put before it"],
    );
    fails(
        "for _, k in ipairs(KEYS) do redis.call('DEL', k .. ':x') end",
        &["the key fields `key1` or `key2`"],
    );
}

#[test]
fn never_on_a_cluster_silences_key_checks() {
    passes("#!lua flags=no-cluster\nreturn redis.call('GET', 'config')");
    passes("#!lua flags=no-cluster\nreturn redis.call('GET', KEYS[1] .. ':meta')");
    passes("#!lua flags=no-cluster\nreturn redis.call(ARGV[1], KEYS[1])");
    let mut standalone = keys(1);
    standalone.standalone_only = true;
    passes_with("return redis.call('GET', ARGV[1])", &standalone);
}

// --- 6. Non-literal command names ------------------------------------------------------------

#[test]
fn command_names_from_argv() {
    let diagnostic = fails(
        "return redis.call(ARGV[1], KEYS[1])",
        &[
            "takes its command name from ARGV (`ARGV[1]`)",
            "literal name",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 1,
            column: 19
        })
    );
    fails(
        "local c = ARGV[1]:upper()\nreturn redis.call(c, KEYS[1])",
        &["from ARGV"],
    );
    fails("return redis.call(unpack(ARGV))", &["from ARGV"]);
    passes(
        "local function run(cmd, key) return redis.call(cmd, key) end\nreturn run('GET', KEYS[1])",
    );
}

// --- 7. Sandbox --------------------------------------------------------------------------------

#[test]
fn assigning_globals() {
    let diagnostic = fails(
        "local x = 1\ncounter = 1",
        &[
            "`counter = 1` assigns the global variable `counter`",
            "readonly table",
            "local counter",
        ],
    );
    assert_eq!(diagnostic.location, Some(Location { line: 2, column: 1 }));
    fails(
        "function helper() return 1 end",
        &[
            "`function helper` assigns the global",
            "local function helper",
        ],
    );
    // Assigned, then read: one diagnostic, for the assignment.
    fails(
        "total = 0\ntotal = total + 1\nreturn total",
        &["`total = 0` assigns"],
    );
    fails(
        "string.trim = function(s) return s end",
        &["modifies `string`", "read-only"],
    );
    fails("_G.x = 1", &["modifies `_G`"]);
    fails("function redis.helper() end", &["modifies `redis`"]);
    passes("local x\nx = 1\nlocal function helper() end\nhelper = nil");
    passes("local t = {}\nt.x = 1\nfunction t.m() end\nfunction t:n() return self end");
    passes("KEYS[1] = 'x'\nARGV[2] = 'y'");
}

#[test]
fn reading_globals_the_sandbox_lacks() {
    let diagnostic = fails(
        "local t = 1\nreturn os.time()",
        &[
            "`os.time()` uses `os`, which is not available",
            "redis.call('TIME')",
        ],
    );
    assert_eq!(diagnostic.location, Some(Location { line: 2, column: 8 }));
    fails("print('x')", &["`print('x')` uses `print`", "redis.log"]);
    fails(
        "local json = require('cjson')",
        &["`require('cjson')` uses `require`", "preloaded"],
    );
    fails("return require 'x'", &["`require 'x'` uses `require`"]);
    fails("local f = loadfile", &["`loadfile` is not available"]);
    fails("return io.read()", &["`io.read()`"]);
    fails("return debug.traceback()", &["`debug`"]);
    fails("return dofile('x')", &["`dofile`"]);
    fails("return loadfile('x')", &["`loadfile`"]);
    fails(
        "return tostrin(1)",
        &[
            "`tostrin(1)` uses `tostrin`, which is neither a local variable nor a global",
            "did you mean tostring?",
        ],
    );
    // Once per name.
    assert_eq!(check("print(1) print(2)").len(), 1);
}

#[test]
fn locals_shadow_globals() {
    passes("local print = function() end\nprint(1)");
    passes("local function f(os) return os end\nreturn f(1)");
    passes("local os = {}\nos.time = 1");
    passes("repeat local done = true until done");
    passes("for i, v in ipairs({}) do local w = v end");
    passes("local function f(...) local a, b = ... return a, b, select('#', ...) end");
    passes("local t = setmetatable({}, {__index = function(t, k) return k end})");
    passes(
        "return {cjson.encode({}), cmsgpack.pack(1), bit.band(1, 1), struct.pack('B', 1), math.floor(1.5), table.concat({}), string.len(''), _VERSION, type(nil), next({}), rawget(_G, 'x'), pcall(error), xpcall(error, tostring), assert(true), loadstring('return 1'), coroutine.create(tostring), gcinfo()}",
    );
}

#[test]
fn global_reads_after_a_later_local_are_still_globals() {
    fails("local a = foo\nlocal foo = 1", &["`foo`"]);
    fails("local x = x", &["`x`"]);
}

// --- Key prefixes carried in ARGV ------------------------------------------------------------

/// A queue: a key `{q:<queue>}:wait` and a prefix `{q:<queue>}:` in ARGV[1], the hash tag being
/// the field `queue` in both.
fn queue(prefix_template: Option<&str>) -> Declaration {
    let mut prefix = Field::single("prefix");
    prefix.template = prefix_template.map(|template| KeyTemplate::parse(template).unwrap());
    Declaration {
        name: "Queue".into(),
        keys: vec![
            Field::single("wait").with_template(KeyTemplate::parse("{{q:{queue}}}:{}").unwrap()),
        ],
        args: vec![prefix, Field::single("id")],
        ..Declaration::default()
    }
}

#[test]
fn keys_built_on_a_tagged_prefix_pass() {
    let declaration = queue(Some("{{q:{queue}}}:{}"));
    for source in [
        "return redis.call('HGET', ARGV[1] .. ARGV[2], 'state')",
        "local id = redis.call('INCR', KEYS[1])\nreturn redis.call('DEL', ARGV[1] .. 'job:' .. id)",
        "local prefix = ARGV[1]\nlocal key = prefix .. 'lock'\nreturn redis.call('SET', key, 1)",
        "return redis.call('GET', 'bull:' .. ARGV[1] .. 'x')",
    ] {
        passes_with(source, &declaration);
    }
}

#[test]
fn keys_built_on_an_untagged_argument_are_reported_wherever_the_rest_comes_from() {
    let declaration = queue(None);
    for source in [
        "return redis.call('GET', ARGV[1] .. ARGV[2])",
        // `id` is unknown to the analysis, but ARGV[1] before it decides the hash tag.
        "local id = redis.call('INCR', KEYS[1])\nreturn redis.call('DEL', ARGV[1] .. id)",
        "local function f(x) return redis.call('GET', ARGV[1] .. x) end\nreturn f(KEYS[1])",
    ] {
        let diagnostic = fails_with(source, &declaration, &["built from ARGV"]);
        assert_eq!(diagnostic.lint, crate::Lint::UndeclaredKey, "{source}");
    }
}

#[test]
fn a_brace_before_a_tagged_prefix_moves_the_tag() {
    let declaration = queue(Some("{{q:{queue}}}:{}"));
    let diagnostic = fails_with(
        "return redis.call('GET', '{x}' .. ARGV[1] .. 'a')",
        &declaration,
        &["contains `{`"],
    );
    assert_eq!(diagnostic.lint, crate::Lint::KeyMayLeaveSlot);
}

#[test]
fn a_prefix_without_declared_keys_proves_nothing() {
    let mut declaration = queue(Some("{{q:{queue}}}:{}"));
    declaration.keys.clear();
    fails_with(
        "return redis.call('GET', ARGV[1] .. 'a')",
        &declaration,
        &["receives no key in KEYS"],
    );
}

// --- 8. Members of the sandbox's tables ------------------------------------------------------

#[test]
fn misspelled_members_are_reported_where_they_are_with_the_closest_name() {
    let cases = [
        (
            "local value = KEYS[1]\nlocal doc = cjson.decod(ARGV[1])",
            Location {
                line: 2,
                column: 19,
            },
            "`cjson.decod` is not a member of `cjson`",
            "attempt to call field 'decod' (a nil value)",
            "did you mean `cjson.decode`?",
        ),
        (
            "return string.trimm(ARGV[1])",
            Location {
                line: 1,
                column: 15,
            },
            "`string.trimm` is not a member of `string`",
            "attempt to call field 'trimm' (a nil value)",
            "Lua has no `string.trim`; trim with `string.match(s, '^%s*(.-)%s*$')`",
        ),
        (
            "local x = 1\n\n  return redis.sha1hexx(ARGV[1])",
            Location {
                line: 3,
                column: 16,
            },
            "`redis.sha1hexx` is not a member of `redis`",
            "attempt to call field 'sha1hexx' (a nil value)",
            "did you mean `redis.sha1hex`?",
        ),
        (
            "return bit.bandd(1, 3)",
            Location {
                line: 1,
                column: 12,
            },
            "`bit.bandd` is not a member of `bit`",
            "attempt to call field 'bandd' (a nil value)",
            "did you mean `bit.band`?",
        ),
    ];
    for (source, location, what, failure, suggestion) in cases {
        let diagnostic = fails(
            source,
            &[
                what,
                "in the Lua sandbox of any server (Redis 7.0 to 8.2, Valkey 7.2 to 9.1)",
                failure,
                suggestion,
                "fix the name; the members of `",
            ],
        );
        assert_eq!(diagnostic.location, Some(location), "{source}");
        assert_eq!(diagnostic.blame, crate::Blame::Script);
    }
}

#[test]
fn members_are_checked_however_they_are_named() {
    let diagnostic = fails(
        "return cjson['decod'](ARGV[1])",
        &[
            "`cjson['decod']` is not a member of `cjson`",
            "did you mean `cjson.decode`?",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 1,
            column: 14
        })
    );
    let diagnostic = fails(
        "return cjson[\"decod\"](ARGV[1])",
        &[
            "`cjson[\"decod\"]` is not a member",
            "attempt to call field 'decod'",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 1,
            column: 14
        })
    );
    let diagnostic = fails(
        "return string:trimm()",
        &[
            "`string:trimm` is not a member of `string`",
            "attempt to call method 'trimm' (a nil value)",
            "string.match(s,",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 1,
            column: 15
        })
    );
    let diagnostic = fails(
        "local level = redis.LOG_WARNIN",
        &[
            "`redis.LOG_WARNIN` is not a member of `redis`",
            "reading it gives `nil`",
            "did you mean `redis.LOG_WARNING`?",
        ],
    );
    assert_eq!(
        diagnostic.location,
        Some(Location {
            line: 1,
            column: 21
        })
    );
    fails(
        "return redis.foo.bar",
        &["`redis.foo`", "attempt to index field 'foo' (a nil value)"],
    );
    fails(
        "return cjson.decod:x()",
        &["`cjson.decod`", "attempt to index field 'decod'"],
    );
    fails(
        "return table.unpack(ARGV)",
        &["`table.unpack` is Lua 5.2's; in Lua 5.1 it is the global `unpack`"],
    );
    // Inside functions, arguments and table constructors too; each use is reported.
    let diagnostics = check(
        "local function f()\n  return {math.flor(1.5)}\nend\nreturn tostring(math.flor(2.5))",
    );
    let locations: Vec<_> = diagnostics.iter().map(|d| d.location).collect();
    assert_eq!(
        locations,
        [
            Some(Location {
                line: 2,
                column: 16
            }),
            Some(Location {
                line: 4,
                column: 22
            })
        ],
        "{diagnostics:#?}"
    );
    assert!(diagnostics[0].help.contains("did you mean `math.floor`?"));
}

#[test]
fn shadowed_libraries_dynamic_indices_and_unknown_tables_are_not_checked() {
    passes("local cjson = {}\nreturn cjson.decod");
    passes("local function f(string) return string.trimm(1) end\nreturn f(1)");
    passes("local redis2 = redis\nreturn redis2.sha1hexx");
    passes("local bit = {bandd = 1}\nlocal function f() return bit.bandd end\nreturn f()");
    passes("for _, string in ipairs({}) do local x = string.trimm end");
    passes("local struct = 1\ndo local y = struct.x end");
    passes("local k = ARGV[1]\nreturn cjson[k]");
    passes("return string[1], cjson[ARGV[1]], math[KEYS[1] .. 'x']");
    passes("local t = {}\nreturn t.decod, KEYS.n, ARGV.x");
    passes("return cjson.decode(ARGV[1]).decod");
    // `_G` answers every global through its metatable: left to the global checks.
    passes("return _G.redis.call('GET', KEYS[1])");
    fails("return unknown.decod", &["`unknown.decod` uses `unknown`"]);
}

#[test]
fn writes_to_members_are_reported_as_writes_only() {
    fails("string.trimm = 1", &["modifies `string`", "read-only"]);
    fails("cjson['decod'] = 1", &["modifies `cjson`"]);
    fails("function redis.helper() end", &["modifies `redis`"]);
    fails("function string:trimm() end", &["modifies `string`"]);
    // Reading `string.x` to write its field: both are wrong.
    let diagnostics = check("string.x.y = 1");
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    assert!(diagnostics[0].message.contains("modifies `string`"));
    assert_eq!(
        diagnostics[1].location,
        Some(Location { line: 1, column: 8 })
    );
    assert!(
        diagnostics[1]
            .message
            .contains("attempt to index field 'x'")
    );
    let diagnostics = check("function cjson.x.y() end");
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    assert!(diagnostics[0].message.contains("modifies `cjson`"));
    assert_eq!(
        diagnostics[1].location,
        Some(Location {
            line: 1,
            column: 16
        })
    );
    assert!(diagnostics[1].message.contains("`cjson.x` is not a member"));
}

/// Every member the server has passes: read, indexed by name, called and called as a method
/// (with an argument the analysis cannot know, for `redis.call`).
#[test]
fn every_member_of_the_sandbox_passes() {
    assert!(!crate::LUA_LIBRARY_MEMBERS.is_empty());
    let mut script = String::new();
    for (library, members) in crate::LUA_LIBRARY_MEMBERS {
        for member in *members {
            script.push_str(&format!(
                "local _ = {library}.{member}\nlocal _ = {library}['{member}']\n\
                 local _ = {library}[\"{member}\"]\nlocal _ = {library}:{member}()\n\
                 local _ = function(x) return {library}.{member}(x) end\n"
            ));
        }
    }
    passes(&script);
}

#[test]
fn members_the_script_assigns_are_reported_once_as_writes() {
    fails(
        "string.trim = function(s) return s end\nreturn string.trim(ARGV[1])",
        &["modifies `string`"],
    );
    fails(
        "function cjson.decod(s) return s end\nreturn cjson['decod'](ARGV[1])",
        &["modifies `cjson`"],
    );
    // Only the member assigned: another misspelling is still reported.
    let diagnostics = check("string.trim = 1\nreturn string.trimm(ARGV[1])");
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    assert_eq!(
        diagnostics[1].location,
        Some(Location {
            line: 2,
            column: 15
        })
    );
}

#[test]
fn a_read_sees_the_innermost_local_in_scope() {
    // A later declaration in the same scope hides the earlier one.
    passes("local k = 'literal'\nlocal k = KEYS[1]\nreturn redis.call('GET', k)");
    fails(
        "local k = KEYS[1]\nlocal k = 'literal'\nreturn redis.call('GET', k)",
        &["`literal`"],
    );
    // An inner scope's local hides the outer one only until the scope ends.
    passes("local k = KEYS[1]\ndo local k = 'literal' end\nreturn redis.call('GET', k)");
    fails(
        "local k = KEYS[1]\nif k then local k = 'literal'\nredis.call('GET', k) end",
        &["`literal`"],
    );
    passes("local k = KEYS[1]\nfor _, k in ipairs({}) do end\nreturn redis.call('GET', k)");
    passes(
        "local k = KEYS[1]\nlocal function f(k) return k end\nreturn redis.call('GET', k), f(1)",
    );
    // After the scope, the name is the global again.
    fails("do local os = {} end\nreturn os.time()", &["`os`"]);
    fails(
        "local function f(os, os) return os end\nreturn f(1, 2), os.time()",
        &["`os`"],
    );
}
