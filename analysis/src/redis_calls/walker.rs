//! The walk over a script: scopes, the values of locals, the sandbox rules, every
//! `redis.call` / `redis.pcall` handed to [`super::calls`], and the replies ([`replies`]).

mod replies;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use full_moon::ast::punctuated::Punctuated;
use full_moon::ast::{
    self, Block, Call, Expression, FunctionArgs, FunctionBody, FunctionCall, Index, LastStmt,
    Parameter, Prefix, Stmt, Suffix, Var,
};
use full_moon::node::Node;
use full_moon::tokenizer::{Position, Symbol, Token, TokenReference, TokenType};

use super::calls::{self, Argument, CallSite};
use super::calls::{availability, target_advice};
use super::lua_text::{number_text, string_value};
use super::members::{MemberUse, UnknownMember, unknown_member};
use super::sandbox::{
    GLOBAL_ALIASES, global_since, member_since, sandbox_globals, sandbox_members,
};
use super::values::{Builtin, KeyTable, KeyValue, Prefix as KeyPrefix, Span, Value};
use super::{Code, Context, edit_distance_within};
use crate::{Blame, Diagnostic, Lint, Location};

/// What the first pass learns for the second.
#[derive(Default)]
pub(crate) struct Assignments {
    /// Byte offsets at which each local (named by the byte offset of its declaration) is
    /// assigned after being declared.
    locals: HashMap<usize, Vec<usize>>,
    /// Globals the script assigns: reported there, so their reads are not reported again.
    globals: HashSet<String>,
    /// Members of the sandbox's tables the script assigns (`string.trim = ...`), as
    /// `string.trim`: reported there as writes to a read-only table, so their reads are not
    /// reported again.
    members: HashSet<String>,
    /// How many times each local declared with a table constructor is read, anywhere: a
    /// returned table read only by its `return` is returned as it was built.
    table_reads: HashMap<usize, u32>,
}

pub(crate) struct Walker<'a, 'c> {
    pub(crate) source: &'a str,
    pub(crate) context: &'c Context<'c>,
    scopes: Vec<Vec<Local<'a>>>,
    function_depth: usize,
    /// From the first pass, in the second; `None` while collecting them.
    known_assignments: Option<&'c Assignments>,
    pub(crate) assignments: Assignments,
    pub(crate) diagnostics: Vec<Diagnostic>,
    reported_globals: HashSet<&'a str>,
    /// In a function library: walking the callback the declaration is about, whose keys and
    /// args are known; elsewhere only what does not depend on them is checked.
    in_target_callback: bool,
    /// The function depth whose `return`s are the reply: 0 (the main chunk) for a script, the
    /// callback's for a function; `None` outside the callback of a library.
    reply_depth: Option<usize>,
    /// The replies seen so far in that body.
    replies: replies::Replies,
    /// The target's members of each sandbox table looked up so far (`None`: not a table of
    /// the target): built once per walk, not at every `redis.call`.
    sandbox_tables: Vec<(&'a str, Option<Rc<[&'static str]>>)>,
}

struct Local<'a> {
    name: &'a str,
    id: usize,
    value: Value,
    block_depth: usize,
    function_depth: usize,
    /// Its initial value as a number, for a reply (known in the second pass only).
    number: replies::Numeric,
    /// The table constructor that initialises it, if one does.
    table: Option<&'a ast::TableConstructor>,
    /// How many times it is read (counted in the first pass).
    reads: u32,
}

/// Globals that Redis's sandbox leaves out on purpose, with what to do instead.
const SANDBOXED: &[(&str, &str)] = &[
    (
        "os",
        "Redis 7.0 gives scripts no `os` library; for the time, use `redis.call('TIME')`",
    ),
    (
        "io",
        "scripts cannot read or write files; pass data in ARGV and return results",
    ),
    (
        "require",
        "scripts cannot load modules; cjson, cmsgpack, bit and struct are preloaded, and other \
         code must be inlined",
    ),
    (
        "module",
        "scripts cannot define modules; keep helpers in local functions",
    ),
    (
        "package",
        "scripts cannot load modules; keep helpers in local functions",
    ),
    (
        "loadfile",
        "scripts cannot read files; `loadstring` compiles code given as a string",
    ),
    (
        "dofile",
        "scripts cannot read files; `loadstring` compiles code given as a string",
    ),
    (
        "debug",
        "there is no `debug` library; debug scripts with `redis-cli --ldb` and `redis.debug(...)`",
    ),
    (
        "print",
        "there is no `print`; log with `redis.log(redis.LOG_NOTICE, ...)`",
    ),
    (
        "setfenv",
        "the sandbox does not let scripts change environments",
    ),
    (
        "getfenv",
        "the sandbox does not let scripts read environments",
    ),
    ("newproxy", "the sandbox does not provide `newproxy`"),
];

impl<'a, 'c> Walker<'a, 'c> {
    pub(crate) fn new(
        source: &'a str,
        context: &'c Context<'c>,
        known_assignments: Option<&'c Assignments>,
    ) -> Self {
        Walker {
            source,
            context,
            scopes: vec![Vec::new()],
            function_depth: 0,
            known_assignments,
            assignments: Assignments::default(),
            diagnostics: Vec::new(),
            reported_globals: HashSet::new(),
            in_target_callback: false,
            reply_depth: context.library.is_none().then_some(0),
            replies: replies::Replies::default(),
            sandbox_tables: Vec::new(),
        }
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        if self.known_assignments.is_some() {
            self.diagnostics.push(diagnostic);
        }
    }

    // --- Scopes -------------------------------------------------------------------------

    fn declare(&mut self, token: &'a TokenReference, value: Value) {
        self.declare_initialised(token, value, replies::Numeric::Unknown, None);
    }

    /// [`declare`](Self::declare) with what a reply needs to know of its initial value.
    fn declare_initialised(
        &mut self,
        token: &'a TokenReference,
        value: Value,
        number: replies::Numeric,
        table: Option<&'a ast::TableConstructor>,
    ) {
        let Some(name) = identifier(token) else {
            return;
        };
        let local = Local {
            name,
            id: token.token().start_position().bytes(),
            value,
            block_depth: self.scopes.len(),
            function_depth: self.function_depth,
            number,
            table,
            reads: 0,
        };
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(local);
        }
    }

    /// The innermost local called `name` in scope, the one a read of `name` reads.
    ///
    /// This runs for every name the script reads, most of them globals that are compared with
    /// every local in scope, in the unoptimised build the derive runs in (cargo builds proc
    /// macros at `opt-level = 0`). Plain loops comparing lengths first take about half the
    /// instructions of an iterator chain there. A map from names to locals removes the scan
    /// but costs more than it saves at `opt-level = 0` for scripts of up to several hundred
    /// locals (measured with `examples/analysis_speed.rs`), as every declaration and every
    /// block's end must update it.
    fn lookup(&mut self, name: &str) -> Option<&mut Local<'a>> {
        for scope in self.scopes.iter_mut().rev() {
            for local in scope.iter_mut().rev() {
                if local.name.len() == name.len() && local.name == name {
                    return Some(local);
                }
            }
        }
        None
    }

    fn is_local(&mut self, name: &str) -> bool {
        self.lookup(name).is_some()
    }

    fn with_scope(&mut self, walk: impl FnOnce(&mut Self)) {
        self.scopes.push(Vec::new());
        walk(self);
        if let Some(scope) = self.scopes.pop() {
            self.note_table_reads(&scope);
        }
    }

    /// At the end of the first pass: notes the reads of the outermost scope's tables.
    pub(crate) fn finish_collecting(&mut self) {
        let scopes = std::mem::take(&mut self.scopes);
        for scope in &scopes {
            self.note_table_reads(scope);
        }
        self.scopes = scopes;
    }

    fn note_table_reads(&mut self, scope: &[Local<'a>]) {
        if self.known_assignments.is_some() {
            return;
        }
        for local in scope.iter().filter(|local| local.table.is_some()) {
            self.assignments.table_reads.insert(local.id, local.reads);
        }
    }

    /// At the start of a loop: a local assigned inside the loop may hold, on a later round,
    /// what it is assigned there, so it is unknown throughout.
    fn enter_loop(&mut self, node: &impl Node) {
        let Some(known) = self.known_assignments else {
            return;
        };
        let Some((start, end)) = node.range() else {
            return;
        };
        let range = start.bytes()..end.bytes();
        for local in self.scopes.iter_mut().flatten() {
            if known
                .locals
                .get(&local.id)
                .is_some_and(|offsets| offsets.iter().any(|offset| range.contains(offset)))
            {
                local.value = Value::Unknown;
            }
        }
    }

    // --- Names --------------------------------------------------------------------------

    /// The value of the variable `token`; `quoted` is the code that reads it (`os.time()` for
    /// `os`), for a message about an unknown global, and `member` the member that code reads
    /// of it (`time`), if any.
    fn read_name(
        &mut self,
        token: &'a TokenReference,
        quoted: Span,
        member: Option<&str>,
    ) -> Value {
        let Some(name) = identifier(token) else {
            return Value::Unknown;
        };
        let function_depth = self.function_depth;
        let known = self.known_assignments;
        if let Some(local) = self.lookup(name) {
            local.reads = local.reads.saturating_add(1);
            // Inside a function, a captured local may have been reassigned before the call.
            let reassigned = known
                .and_then(|known| known.locals.get(&local.id))
                .is_some();
            if local.function_depth < function_depth && reassigned {
                return Value::Unknown;
            }
            return local.value.clone();
        }
        if !self.global_on_target(name) {
            let assigned = known.is_some_and(|known| known.globals.contains(name));
            if !assigned {
                self.unknown_global(name, token, quoted, member);
            }
            return Value::Unknown;
        }
        match name {
            "KEYS" | "ARGV" if self.context.library.is_some() => {
                self.keys_in_library(name, token);
                Value::Unknown
            }
            "KEYS" => Value::KeysTable,
            "ARGV" => Value::ArgvTable,
            // Valkey's `server` is the very table `redis` (on a target that has it).
            "redis" | "server" => Value::Builtin(Builtin::Redis),
            "unpack" => Value::Builtin(Builtin::Unpack),
            "tostring" => Value::Builtin(Builtin::ToString),
            "tonumber" => Value::Builtin(Builtin::ToNumber),
            "ipairs" | "pairs" => Value::Builtin(Builtin::Ipairs),
            "pcall" => Value::Builtin(Builtin::Pcall),
            "string" => Value::Builtin(Builtin::StringLibrary),
            _ => Value::Unknown,
        }
    }

    /// Whether the target's sandbox has the global `name`.
    fn global_on_target(&self, name: &str) -> bool {
        global_since(name).is_some_and(|since| since.available_on(self.context.target))
    }

    fn unknown_global(
        &mut self,
        name: &'a str,
        token: &TokenReference,
        quoted: Span,
        member: Option<&str>,
    ) {
        if !self.reported_globals.insert(name) {
            return;
        }
        let location = location_of(token.token());
        let code = self.code(quoted).to_string();
        // `os.time()` uses `os`, ...; a bare `os` is quoted once.
        let subject = if code.is_empty() || code == name {
            format!("`{name}`")
        } else {
            format!("`{code}` uses `{name}`, which")
        };
        let target = self.context.target;
        let sandboxed = SANDBOXED.iter().find(|(known, _)| *known == name);
        // Another server's (or a newer version's) global; but `os`, which Redis leaves out
        // before 7.4 and then gives `clock` only, stays a left-out library for its other
        // members (`os.time()`).
        let elsewhere = global_since(name).filter(|_| {
            sandboxed.is_none() || member.is_some_and(|member| member_since(name, member).is_some())
        });
        let (lint, message, help) = match (elsewhere, sandboxed) {
            (Some(since), _) => {
                let alias = GLOBAL_ALIASES
                    .iter()
                    .find(|(alias, table)| *alias == name && self.global_on_target(table))
                    .map_or(String::new(), |(_, table)| {
                        format!("write `{table}` instead, the same table on every server; or, ")
                    });
                (
                    Lint::GlobalNotOnTarget,
                    format!(
                        "{subject} is not a global of the Lua sandbox of {target}, the oldest \
                         server this script must run on ({}): the script fails with \"Script \
                         attempted to access nonexistent global variable '{name}'\"",
                        availability(since)
                    ),
                    format!("{alias}{}", target_advice(since, target)),
                )
            }
            (None, Some((_, instead))) => (
                Lint::SandboxedLibrary,
                format!(
                    "{subject} is not available in Redis scripts: Redis's Lua sandbox does not \
                     provide it (the script fails with \"Script attempted to access nonexistent \
                     global variable '{name}'\")"
                ),
                (*instead).to_owned(),
            ),
            (None, None) => {
                let globals = sandbox_globals(target);
                let similar: Vec<&str> = globals
                    .iter()
                    .copied()
                    .filter(|known| edit_distance_within(name, known, 2))
                    .take(3)
                    .collect();
                let suggestion = if similar.is_empty() {
                    String::new()
                } else {
                    format!("did you mean {}? ", or_list(&similar))
                };
                (
                    Lint::UnknownGlobal,
                    format!(
                        "{subject} is neither a local variable nor a global of Redis's Lua sandbox \
                         (the script fails with \"Script attempted to access nonexistent global \
                         variable '{name}'\")"
                    ),
                    format!(
                        "{suggestion}declare it with `local {name} = ...` before its use, or fix \
                         the name; the sandbox's globals are {}",
                        globals.join(", ")
                    ),
                )
            }
        };
        self.report(Diagnostic {
            lint,
            origin: None,
            location: Some(location),
            message,
            help,
            blame: Blame::Script,
        });
    }

    fn assign_name(&mut self, token: &'a TokenReference, value: Value, statement: Span) {
        let Some(name) = identifier(token) else {
            return;
        };
        let offset = token.token().start_position().bytes();
        let depth = self.scopes.len();
        let function_depth = self.function_depth;
        let collecting = self.known_assignments.is_none();
        if let Some(local) = self.lookup(name) {
            let id = local.id;
            if !collecting {
                if local.block_depth < depth || local.function_depth < function_depth {
                    // Assigned in a branch, a loop or a function: either value may be there.
                    let old = std::mem::replace(&mut local.value, Value::Unknown);
                    local.value = old.merge(value);
                } else {
                    local.value = value;
                }
            }
            if collecting {
                self.assignments.locals.entry(id).or_default().push(offset);
            }
            return;
        }
        if collecting {
            self.assignments.globals.insert(name.to_owned());
        }
        if !self.reported_globals.insert(name) {
            return;
        }
        let statement = self.code(statement);
        let help = if statement.to_string().starts_with("function ") {
            format!("declare it as a local function: `local function {name}(...)`")
        } else {
            format!("declare it as a local variable: `local {name} = ...`")
        };
        self.report(Diagnostic {
            lint: Lint::GlobalAssignment,
            origin: None,
            location: Some(location_of(token.token())),
            message: format!(
                "`{statement}` assigns the global variable `{name}`; Redis 7 scripts cannot \
                 create or change globals (the script fails with \"Attempt to modify a readonly \
                 table\")"
            ),
            help,
            blame: Blame::Script,
        });
    }

    /// `string.x = ...`, `_G[k] = ...`, `function redis.helper() end`: the sandbox's tables are
    /// read-only (`KEYS` and `ARGV` excepted).
    fn assign_field_of_global(&mut self, root: &'a TokenReference, statement: Span) {
        let Some(name) = identifier(root) else { return };
        if self.is_local(name) || name == "KEYS" || name == "ARGV" {
            return;
        }
        if !self.global_on_target(name) {
            return; // reported as an unknown global when read
        }
        let statement = self.code(statement);
        self.report(Diagnostic {
            lint: Lint::SandboxTableModified,
            origin: None,
            location: Some(location_of(root.token())),
            message: format!(
                "`{statement}` modifies `{name}`, a table of Redis's Lua sandbox, which Redis 7 \
                 makes read-only (the script fails with \"Attempt to modify a readonly table\")"
            ),
            help: "keep your own table in a local variable, e.g. `local util = {}` and \
                   `function util.helper() ... end`"
                .to_owned(),
            blame: Blame::Script,
        });
    }

    /// The sandbox table `token` names with the members it has, unless a local hides it.
    fn library(&mut self, token: &'a TokenReference) -> Option<(&'a str, Rc<[&'static str]>)> {
        let name = identifier(token)?;
        if self.is_local(name) {
            return None;
        }
        if let Some((_, members)) = self.sandbox_tables.iter().find(|(table, _)| *table == name) {
            return members.clone().map(|members| (name, members));
        }
        let members: Option<Rc<[&'static str]>> =
            sandbox_members(name, self.context.target).map(Rc::from);
        self.sandbox_tables.push((name, members.clone()));
        members.map(|members| (name, members))
    }

    /// `library.member`, `library['member']` or `library:member(...)` as the first suffix of a
    /// chain, followed by `next`; `start` is where the chain starts. Dynamic indices and calls
    /// of the table itself are not checked.
    fn check_member_suffix(
        &mut self,
        library: &'a str,
        members: &[&'static str],
        suffix: &'a Suffix,
        next: Option<&'a Suffix>,
        start: Option<Position>,
    ) {
        let used = match next {
            Some(Suffix::Call(Call::AnonymousCall(_))) => MemberUse::Call,
            // `redis.x:y()` indexes `redis.x` before calling.
            Some(_) => MemberUse::Index,
            None => MemberUse::Read,
        };
        let Some((member, token, method)) = member_suffix(suffix) else {
            return;
        };
        if members.binary_search(&member.as_ref()).is_ok()
            || self.member_assigned(library, &member)
            || (self.context.library.is_some()
                && matches!(
                    (library, member.as_ref()),
                    ("redis" | "server", "register_function")
                ))
        {
            return;
        }
        let (separator, used) = if method {
            (':', MemberUse::MethodCall)
        } else {
            ('.', used)
        };
        // Quoted as written, but `cjson . decod` on one line as `cjson.decod`.
        let written = match suffix {
            Suffix::Index(Index::Brackets { .. }) => {
                self.code(span(start, suffix_end(suffix))).to_string()
            }
            _ => format!("{library}{separator}{member}"),
        };
        self.report(unknown_member(&UnknownMember {
            library,
            member: &member,
            members,
            written: &written,
            separator,
            used,
            location: location_of(token.token()),
            target: self.context.target,
        }));
    }

    /// In the first pass, notes that the script assigns `library.member`.
    fn assign_member(&mut self, library: &str, member: &str) {
        if self.known_assignments.is_none() {
            self.assignments
                .members
                .insert(format!("{library}.{member}"));
        }
    }

    fn member_assigned(&self, library: &str, member: &str) -> bool {
        self.known_assignments
            .is_some_and(|known| known.members.contains(&format!("{library}.{member}")))
    }

    // --- Statements ---------------------------------------------------------------------

    pub(crate) fn walk_block(&mut self, block: &'a Block) {
        for statement in block.stmts() {
            self.walk_statement(statement);
        }
        if let Some(last) = block.last_stmt() {
            match last {
                LastStmt::Return(returned) => {
                    if self.known_assignments.is_some()
                        && self.reply_depth == Some(self.function_depth)
                    {
                        self.check_reply(returned);
                    }
                    for expression in returned.returns().iter() {
                        self.eval(expression);
                    }
                }
                LastStmt::Break(_) => {}
                _ => {}
            }
        }
    }

    fn walk_statement(&mut self, statement: &'a Stmt) {
        match statement {
            Stmt::LocalAssignment(local) => {
                let expressions = local.expressions();
                // The initial values as numbers are read in the scope before the declaration.
                let numbers: Vec<replies::Numeric> = if self.known_assignments.is_some() {
                    local
                        .names()
                        .iter()
                        .enumerate()
                        .map(|(position, _)| match expressions.iter().nth(position) {
                            Some(expression)
                                if position + 1 < expressions.len() || !is_multiple(expression) =>
                            {
                                self.number(expression)
                            }
                            _ => replies::Numeric::Unknown,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let values = self.eval_list(expressions, local.names().len());
                for (position, (name, value)) in local.names().iter().zip(values).enumerate() {
                    let number = numbers
                        .get(position)
                        .copied()
                        .unwrap_or(replies::Numeric::Unknown);
                    let table = expressions
                        .iter()
                        .nth(position)
                        .and_then(replies::table_constructor);
                    self.declare_initialised(name, value, number, table);
                }
            }
            Stmt::Assignment(assignment) => {
                let targets = assignment.variables();
                let values = self.eval_list(assignment.expressions(), targets.len());
                let text = span(assignment.start_position(), assignment.end_position());
                for (target, value) in targets.iter().zip(values) {
                    match target {
                        Var::Name(name) => self.assign_name(name, value, text),
                        Var::Expression(expression) => {
                            let only_indexes = expression
                                .suffixes()
                                .all(|suffix| matches!(suffix, Suffix::Index(_)));
                            if let (Prefix::Name(root), true) = (expression.prefix(), only_indexes)
                            {
                                self.assign_field_of_global(root, text);
                            }
                            self.eval_chain(
                                expression.prefix(),
                                expression.suffixes(),
                                expression.suffixes().last().and_then(suffix_end),
                                true,
                            );
                        }
                        _ => {}
                    }
                }
            }
            Stmt::FunctionCall(call) => {
                self.eval_call(call);
            }
            Stmt::Do(block) => self.with_scope(|walker| walker.walk_block(block.block())),
            Stmt::While(node) => {
                self.enter_loop(node.as_ref());
                self.eval(node.condition());
                self.with_scope(|walker| walker.walk_block(node.block()));
            }
            Stmt::Repeat(node) => {
                self.enter_loop(node.as_ref());
                self.with_scope(|walker| {
                    walker.walk_block(node.block());
                    walker.eval(node.until());
                });
            }
            Stmt::If(node) => {
                self.eval(node.condition());
                self.with_scope(|walker| walker.walk_block(node.block()));
                for branch in node.else_if().into_iter().flatten() {
                    self.eval(branch.condition());
                    self.with_scope(|walker| walker.walk_block(branch.block()));
                }
                if let Some(block) = node.else_block() {
                    self.with_scope(|walker| walker.walk_block(block));
                }
            }
            Stmt::NumericFor(node) => {
                self.eval(node.start());
                self.eval(node.end());
                if let Some(step) = node.step() {
                    self.eval(step);
                }
                self.enter_loop(node.as_ref());
                self.with_scope(|walker| {
                    walker.declare(node.index_variable(), Value::Unknown);
                    walker.walk_block(node.block());
                });
            }
            Stmt::GenericFor(node) => {
                let mut values: Vec<Value> = node
                    .expressions()
                    .iter()
                    .map(|expression| self.eval(expression))
                    .collect();
                let entry = match (values.len(), values.pop()) {
                    (1, Some(Value::Entries(entry))) => *entry,
                    _ => Value::Unknown,
                };
                self.enter_loop(node.as_ref());
                self.with_scope(|walker| {
                    for (position, name) in node.names().iter().enumerate() {
                        let value = if position == 1 {
                            entry.clone()
                        } else {
                            Value::Unknown
                        };
                        walker.declare(name, value);
                    }
                    walker.walk_block(node.block());
                });
            }
            Stmt::FunctionDeclaration(declaration) => {
                let name = declaration.name();
                let names: Vec<&'a TokenReference> = name.names().iter().collect();
                let text = span(
                    Some(declaration.function_token().token().start_position()),
                    name.end_position(),
                );
                match (names.as_slice(), name.method_name()) {
                    ([single], None) => self.assign_name(single, Value::Unknown, text),
                    ([root, ..], _) => {
                        self.assign_field_of_global(root, text);
                        let member = names.get(1).and_then(|member| identifier(member));
                        self.read_name(root, text, member);
                    }
                    ([], _) => {}
                }
                // `function string.x.y()` reads `string.x` to assign its `y`; in
                // `function string.x()` the `x` is only written.
                let reads_member = names.len() > 2 || name.method_name().is_some();
                if let ([root, member], false) = (names.as_slice(), reads_member)
                    && let (Some(library), Some(member)) = (identifier(root), identifier(member))
                {
                    self.assign_member(library, member);
                }
                if let ([root, member, ..], true) = (names.as_slice(), reads_member)
                    && let Some((library, members)) = self.library(root)
                    && let Some(member_name) = identifier(member)
                    && members.binary_search(&member_name).is_err()
                    && !self.member_assigned(library, member_name)
                {
                    self.report(unknown_member(&UnknownMember {
                        library,
                        member: member_name,
                        members: &members,
                        written: &format!("{library}.{member_name}"),
                        separator: '.',
                        used: MemberUse::Index,
                        location: location_of(member.token()),
                        target: self.context.target,
                    }));
                }
                let method = name.method_name().is_some();
                self.walk_function(declaration.body(), method);
            }
            Stmt::LocalFunction(function) => {
                self.declare(function.name(), Value::Unknown);
                self.walk_function(function.body(), false);
            }
            _ => {}
        }
    }

    fn walk_function(&mut self, body: &'a FunctionBody, method: bool) {
        self.function_depth += 1;
        let target = self
            .context
            .library
            .and_then(|library| library.callback)
            .is_some_and(|callback| callback == body_id(body));
        let was_in_target = self.in_target_callback;
        self.in_target_callback |= target;
        let reply_depth = self.reply_depth;
        if target {
            self.reply_depth = Some(self.function_depth);
        }
        self.with_scope(|walker| {
            if method {
                // `self` is a parameter; it has no token of its own, so it is declared with the
                // body's.
                walker.declare_self(body);
            }
            for (position, parameter) in body.parameters().iter().enumerate() {
                if let Parameter::Name(name) = parameter {
                    // The callback's parameters are its keys and args.
                    let value = match (target, position) {
                        (true, 0) => Value::KeysTable,
                        (true, 1) => Value::ArgvTable,
                        _ => Value::Unknown,
                    };
                    walker.declare(name, value);
                }
            }
            walker.walk_block(body.block());
            if target {
                walker.check_reply_end(body.block());
            }
        });
        self.reply_depth = reply_depth;
        self.in_target_callback = was_in_target;
        self.function_depth -= 1;
    }

    /// `redis.call` at the top level of a function library: `FUNCTION LOAD` runs that code,
    /// and refuses to call Redis from it.
    fn outside_function(&mut self, site: &CallSite) {
        if self.context.library.is_none() || self.function_depth > 0 {
            return;
        }
        let call = self.code(site.text);
        self.report(Diagnostic::new(
            Lint::InvalidLibrary,
            Some(site.location),
            format!(
                "`{call}` runs when the library is loaded, outside any function; FUNCTION LOAD \
                 refuses it (\"attempt to call field 'call' (a nil value)\": the load context \
                 has no `redis.call`)"
            ),
            "call Redis only inside the functions the library registers",
            Blame::Script,
        ));
    }

    /// `KEYS` or `ARGV` in a function library, where they do not exist.
    fn keys_in_library(&mut self, name: &'a str, token: &TokenReference) {
        if self.known_assignments.is_none() || !self.reported_globals.insert(name) {
            return;
        }
        let (parameter, position) = if name == "KEYS" {
            ("keys", "first")
        } else {
            ("args", "second")
        };
        self.report(Diagnostic::new(
            Lint::UnknownGlobal,
            Some(location_of(token.token())),
            format!(
                "`{name}` does not exist in a function library: Redis passes a function its keys \
                 and arguments as the callback's parameters (the call fails with \"Script \
                 attempted to access nonexistent global variable '{name}'\")"
            ),
            format!(
                "read them through the callback's {position} parameter, e.g. \
                 `redis.register_function('f', function(keys, args) return {parameter}[1] end)`"
            ),
            Blame::Script,
        ));
    }

    /// Whether checks that depend on the struct's keys and args apply here: everywhere in a
    /// script, only in the struct's callback in a function library.
    fn declared_checks(&self) -> bool {
        self.context.library.is_none() || self.in_target_callback
    }

    fn declare_self(&mut self, body: &FunctionBody) {
        let id = body
            .parameters_parentheses()
            .tokens()
            .0
            .token()
            .start_position()
            .bytes();
        let local = Local {
            name: "self",
            id,
            value: Value::Unknown,
            block_depth: self.scopes.len(),
            function_depth: self.function_depth,
            number: replies::Numeric::Unknown,
            table: None,
            reads: 0,
        };
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(local);
        }
    }

    /// The values an expression list gives `wanted` names: one per expression, the last one
    /// spread over the remaining names when it is a call or `...`.
    fn eval_list(&mut self, expressions: &'a Punctuated<Expression>, wanted: usize) -> Vec<Value> {
        let count = expressions.len();
        let mut values = Vec::with_capacity(wanted.max(count));
        for (position, expression) in expressions.iter().enumerate() {
            let value = self.eval(expression);
            if position + 1 == count && is_multiple(expression) {
                let each = match &value {
                    Value::Spread(each) => (**each).clone(),
                    _ => Value::Unknown,
                };
                values.push(value.single());
                while values.len() < wanted {
                    values.push(each.clone());
                }
            } else {
                values.push(value.single());
            }
        }
        while values.len() < wanted {
            values.push(Value::Nil);
        }
        values
    }

    // --- Expressions --------------------------------------------------------------------

    /// The value of an expression, walking all of it. Operator chains are walked with an
    /// explicit stack, so that a long `a + b + c + ...` does not recurse.
    pub(crate) fn eval(&mut self, expression: &'a Expression) -> Value {
        if !matches!(
            expression,
            Expression::BinaryOperator { .. }
                | Expression::UnaryOperator { .. }
                | Expression::Parentheses { .. }
        ) {
            return self.eval_leaf(expression);
        }
        enum Work<'e> {
            Visit(&'e Expression),
            Binary(&'e ast::BinOp),
            Unary,
            Parentheses,
        }
        let mut work = vec![Work::Visit(expression)];
        let mut values: Vec<Value> = Vec::new();
        while let Some(item) = work.pop() {
            match item {
                Work::Visit(Expression::BinaryOperator { lhs, binop, rhs }) => {
                    work.push(Work::Binary(binop));
                    work.push(Work::Visit(rhs));
                    work.push(Work::Visit(lhs));
                }
                Work::Visit(Expression::UnaryOperator { expression, .. }) => {
                    work.push(Work::Unary);
                    work.push(Work::Visit(expression));
                }
                Work::Visit(Expression::Parentheses { expression, .. }) => {
                    work.push(Work::Parentheses);
                    work.push(Work::Visit(expression));
                }
                Work::Visit(leaf) => {
                    let value = self.eval_leaf(leaf);
                    values.push(value);
                }
                Work::Binary(operator) => {
                    let right = values.pop().unwrap_or(Value::Unknown);
                    let left = values.pop().unwrap_or(Value::Unknown);
                    values.push(match operator {
                        ast::BinOp::TwoDots(_) => left.concat(right),
                        ast::BinOp::And(_) => right.single(),
                        ast::BinOp::Or(_) => left.single().merge(right.single()),
                        _ => Value::Unknown,
                    });
                }
                Work::Unary => {
                    values.pop();
                    values.push(Value::Unknown);
                }
                Work::Parentheses => {
                    let value = values.pop().unwrap_or(Value::Unknown);
                    values.push(value.single());
                }
            }
        }
        values.pop().unwrap_or(Value::Unknown)
    }

    fn eval_leaf(&mut self, expression: &'a Expression) -> Value {
        match expression {
            Expression::Function(function) => {
                self.walk_function(function.body(), false);
                Value::Unknown
            }
            Expression::FunctionCall(call) => self.eval_call(call),
            Expression::TableConstructor(table) => {
                for field in table.fields().iter() {
                    match field {
                        ast::Field::ExpressionKey { key, value, .. } => {
                            self.eval(key);
                            self.eval(value);
                        }
                        ast::Field::NameKey { value, .. } => {
                            self.eval(value);
                        }
                        ast::Field::NoKey(value) => {
                            self.eval(value);
                        }
                        _ => {}
                    }
                }
                Value::Unknown
            }
            Expression::Number(token) => number_token_text(token)
                .and_then(number_text)
                .map_or(Value::Unknown, Value::literal),
            Expression::String(token) => {
                string_value(token.token_type()).map_or(Value::Unknown, Value::literal)
            }
            Expression::Symbol(token) => match token.token_type() {
                TokenType::Symbol {
                    symbol: Symbol::Nil,
                } => Value::Nil,
                _ => Value::Unknown,
            },
            Expression::Var(Var::Name(name)) => {
                let token = name.token();
                self.read_name(
                    name,
                    span(Some(token.start_position()), Some(token.end_position())),
                    None,
                )
            }
            Expression::Var(Var::Expression(expression)) => self.eval_chain(
                expression.prefix(),
                expression.suffixes(),
                expression.suffixes().last().and_then(suffix_end),
                false,
            ),
            _ => Value::Unknown,
        }
    }

    fn eval_call(&mut self, call: &'a FunctionCall) -> Value {
        self.eval_chain(
            call.prefix(),
            call.suffixes(),
            call.suffixes().last().and_then(suffix_end),
            false,
        )
    }

    /// `prefix.a[b](c):d(e)`, suffix by suffix; `chain_end` is where the last suffix ends, and
    /// `assigned` says the chain is the target of an assignment, so its last suffix is written.
    fn eval_chain(
        &mut self,
        prefix: &'a Prefix,
        suffixes: impl Iterator<Item = &'a Suffix>,
        chain_end: Option<Position>,
        assigned: bool,
    ) -> Value {
        let start = prefix.start_position();
        let library = match prefix {
            Prefix::Name(name) => self.library(name),
            _ => None,
        };
        let mut suffixes = suffixes.peekable();
        let first_member = suffixes
            .peek()
            .and_then(|suffix| member_suffix(suffix))
            .map(|(member, ..)| member);
        let mut value = match prefix {
            Prefix::Name(name) => {
                let end = chain_end.or_else(|| Some(name.token().end_position()));
                self.read_name(name, span(start, end), first_member.as_deref())
            }
            Prefix::Expression(expression) => self.eval(expression).single(),
            _ => Value::Unknown,
        };
        // Only the first suffix names a member of the library.
        let mut member_of = library;
        while let Some(suffix) = suffixes.next() {
            if let Some((library, members)) = member_of.take() {
                let next = suffixes.peek().copied();
                if assigned && next.is_none() {
                    // `string.x = ...` writes `x` rather than reading it; the write is reported
                    // as one to a read-only table.
                    if let Some((member, ..)) = member_suffix(suffix) {
                        self.assign_member(library, &member);
                    }
                } else {
                    self.check_member_suffix(library, &members, suffix, next, start);
                }
            }
            let end = suffix_end(suffix);
            value = match suffix {
                Suffix::Index(Index::Dot { name, .. }) => {
                    identifier(name).map_or(Value::Unknown, |name| field(value.single(), name))
                }
                Suffix::Index(Index::Brackets { expression, .. }) => {
                    let index = self.eval(expression);
                    match value.single() {
                        // `redis['call']`, `string['format']`.
                        value @ Value::Builtin(_) => index
                            .as_literal()
                            .map_or(Value::Unknown, |name| field(value, name)),
                        Value::KeysTable => Value::Key(KeyValue {
                            table: KeyTable::Keys,
                            index: literal_index(expression),
                            prefix: KeyPrefix::None,
                            suffixed: false,
                            written: span(start, end),
                        }),
                        Value::ArgvTable => {
                            self.argument(literal_index(expression), span(start, end))
                        }
                        _ => Value::Unknown,
                    }
                }
                Suffix::Call(Call::AnonymousCall(arguments)) => {
                    let site_text = span(start, end);
                    let location = start.map_or(Location { line: 1, column: 1 }, position_location);
                    self.call(value.single(), arguments, site_text, location)
                }
                Suffix::Call(Call::MethodCall(method)) => {
                    self.arguments(method.args());
                    match (value.single(), identifier(method.name())) {
                        (
                            Value::Argv,
                            Some("lower" | "upper" | "sub" | "rep" | "reverse" | "format"),
                        ) => Value::Argv,
                        _ => Value::Unknown,
                    }
                }
                _ => Value::Unknown,
            };
        }
        value
    }

    /// Evaluates a call's arguments: each one's value, where it is and how it is written.
    fn arguments(&mut self, arguments: &'a FunctionArgs) -> Vec<Argument> {
        match arguments {
            FunctionArgs::Parentheses { arguments, .. } => {
                let count = arguments.len();
                arguments
                    .iter()
                    .enumerate()
                    .map(|(position, expression)| {
                        let value = self.eval(expression);
                        // A call known to give one value (`tostring(x)`, `s:lower()`) is one.
                        let multiple = position + 1 == count
                            && is_multiple(expression)
                            && matches!(value, Value::Spread(_) | Value::Unknown);
                        Argument {
                            value: if multiple { value } else { value.single() },
                            multiple,
                            location: expression
                                .start_position()
                                .map_or(Location { line: 1, column: 1 }, position_location),
                            text: span(expression.start_position(), expression_end(expression)),
                        }
                    })
                    .collect()
            }
            FunctionArgs::String(token) => vec![Argument {
                value: string_value(token.token_type()).map_or(Value::Unknown, Value::literal),
                multiple: false,
                location: location_of(token.token()),
                text: span(
                    Some(token.token().start_position()),
                    Some(token.token().end_position()),
                ),
            }],
            FunctionArgs::TableConstructor(table) => {
                let expression_start = table.start_position();
                let expression_end = Some(table.braces().tokens().1.token().end_position());
                for field in table.fields().iter() {
                    match field {
                        ast::Field::ExpressionKey { key, value, .. } => {
                            self.eval(key);
                            self.eval(value);
                        }
                        ast::Field::NameKey { value, .. } => {
                            self.eval(value);
                        }
                        ast::Field::NoKey(value) => {
                            self.eval(value);
                        }
                        _ => {}
                    }
                }
                vec![Argument {
                    value: Value::Unknown,
                    multiple: false,
                    location: expression_start
                        .map_or(Location { line: 1, column: 1 }, position_location),
                    text: span(expression_start, expression_end),
                }]
            }
            _ => Vec::new(),
        }
    }

    fn call(
        &mut self,
        callee: Value,
        arguments: &'a FunctionArgs,
        site_text: Span,
        location: Location,
    ) -> Value {
        let arguments = self.arguments(arguments);
        let first = || {
            arguments
                .first()
                .map_or(Value::Unknown, |argument| argument.value.clone().single())
        };
        match callee {
            Value::Builtin(Builtin::RedisCall { protected }) => {
                let site = CallSite {
                    text: site_text,
                    location,
                    protected,
                    opening: if protected {
                        "redis.pcall("
                    } else {
                        "redis.call("
                    },
                };
                // The first pass reports nothing: checking there would be wasted.
                if self.known_assignments.is_some() {
                    self.outside_function(&site);
                    let declared = self.declared_checks();
                    let diagnostics = calls::check_call(&site, &arguments, self.context, declared);
                    self.diagnostics.extend(diagnostics);
                }
                Value::Unknown
            }
            // `pcall(redis.call, 'GET', KEYS[1])`: the call, with its errors caught.
            Value::Builtin(Builtin::Pcall) => {
                if let Some((function, rest)) = arguments.split_first()
                    && let Value::Builtin(Builtin::RedisCall { protected }) = function.value
                {
                    let site = CallSite {
                        text: site_text,
                        location,
                        protected: true,
                        opening: if protected {
                            "pcall(redis.pcall, "
                        } else {
                            "pcall(redis.call, "
                        },
                    };
                    if self.known_assignments.is_some() {
                        self.outside_function(&site);
                        let declared = self.declared_checks();
                        let diagnostics = calls::check_call(&site, rest, self.context, declared);
                        self.diagnostics.extend(diagnostics);
                    }
                }
                Value::Unknown
            }
            Value::Builtin(Builtin::Unpack) => {
                self.check_unpack(&arguments, site_text, location);
                match first() {
                    Value::KeysTable => Value::Spread(Box::new(Value::Key(KeyValue {
                        table: KeyTable::Keys,
                        index: None,
                        prefix: KeyPrefix::None,
                        suffixed: false,
                        written: site_text,
                    }))),
                    Value::ArgvTable => Value::Spread(Box::new(Value::Argv)),
                    _ => Value::Unknown,
                }
            }
            Value::Builtin(Builtin::ToString) => match first() {
                value @ (Value::Key(_) | Value::Argv | Value::Literal(_)) => value,
                _ => Value::Unknown,
            },
            Value::Builtin(Builtin::ToNumber) => match first() {
                Value::Argv => Value::Argv,
                _ => Value::Unknown,
            },
            Value::Builtin(Builtin::Ipairs) => match first() {
                Value::KeysTable => Value::Entries(Box::new(Value::Key(KeyValue {
                    table: KeyTable::Keys,
                    index: None,
                    prefix: KeyPrefix::None,
                    suffixed: false,
                    written: site_text,
                }))),
                Value::ArgvTable => Value::Entries(Box::new(Value::Argv)),
                _ => Value::Unknown,
            },
            Value::Builtin(Builtin::StringFormat) => format(&arguments),
            Value::Builtin(Builtin::StringTransform) => first().transformed(),
            _ => Value::Unknown,
        }
    }

    /// `ARGV[index]`: a key prefix when the #[arg] there has a template with a hash tag (and
    /// the script may run on a cluster, where that matters), text from ARGV otherwise.
    fn argument(&self, index: Option<u64>, written: Span) -> Value {
        let tagged = index
            .and_then(|index| index.checked_sub(1))
            .and_then(|position| self.context.declaration.args.get(position as usize))
            .is_some_and(|field| !field.variadic && super::calls::has_hash_tag(field));
        if !(tagged && self.context.cluster) {
            return Value::Argv;
        }
        Value::Key(KeyValue {
            table: KeyTable::Argv,
            index,
            prefix: KeyPrefix::None,
            suffixed: false,
            written,
        })
    }

    fn code(&self, span: Span) -> Code<'a> {
        Code(self.source.get(span.start..span.end).unwrap_or_default())
    }
}

fn span(start: Option<Position>, end: Option<Position>) -> Span {
    match (start, end) {
        (Some(start), Some(end)) => Span {
            start: start.bytes(),
            end: end.bytes(),
        },
        _ => Span::default(),
    }
}

/// `string.format` with a literal format: `%s` places the argument as it is, other
/// conversions keep only where the text comes from.
fn format(arguments: &[Argument]) -> Value {
    let Some(format) = arguments
        .first()
        .and_then(|argument| argument.value.as_literal())
    else {
        return Value::Unknown;
    };
    let mut pieces: Vec<Value> = Vec::new();
    let mut literal = String::new();
    let mut next_argument = 1;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            literal.push('%');
            continue;
        }
        // Flags, width and precision, then the conversion.
        let mut conversion = None;
        for c in chars.by_ref() {
            if c.is_ascii_alphabetic() {
                conversion = Some(c);
                break;
            }
        }
        let Some(argument) = arguments.get(next_argument) else {
            return Value::Unknown;
        };
        next_argument += 1;
        if !literal.is_empty() {
            pieces.push(Value::literal(std::mem::take(&mut literal)));
        }
        let value = argument.value.clone().single();
        pieces.push(match (conversion, value) {
            (Some('s'), value) => value,
            (_, Value::Argv) => Value::Argv,
            _ => Value::Unknown,
        });
    }
    if !literal.is_empty() {
        pieces.push(Value::literal(literal));
    }
    let mut pieces = pieces.into_iter();
    let first = pieces
        .next()
        .unwrap_or_else(|| Value::literal(String::new()));
    pieces.fold(first, Value::concat)
}

/// `value.name` (or `value['name']`).
fn field(value: Value, name: &str) -> Value {
    match (value, name) {
        (Value::Builtin(Builtin::Redis), "call") => {
            Value::Builtin(Builtin::RedisCall { protected: false })
        }
        (Value::Builtin(Builtin::Redis), "pcall") => {
            Value::Builtin(Builtin::RedisCall { protected: true })
        }
        (Value::Builtin(Builtin::StringLibrary), "format") => Value::Builtin(Builtin::StringFormat),
        (Value::Builtin(Builtin::StringLibrary), "lower" | "upper" | "sub" | "rep" | "reverse") => {
            Value::Builtin(Builtin::StringTransform)
        }
        _ => Value::Unknown,
    }
}

/// The member a suffix names with a constant, the token to report it at, and whether it is a
/// method call: `.name`, `['name']`, `:name(...)`.
fn member_suffix(suffix: &Suffix) -> Option<(Cow<'_, str>, &TokenReference, bool)> {
    match suffix {
        Suffix::Index(Index::Dot { name, .. }) => {
            identifier(name).map(|member| (Cow::Borrowed(member), name, false))
        }
        Suffix::Index(Index::Brackets { expression, .. }) => match &**expression {
            Expression::String(token) => {
                string_value(token.token_type()).map(|member| (Cow::Owned(member), token, false))
            }
            _ => None,
        },
        Suffix::Call(Call::MethodCall(method)) => {
            identifier(method.name()).map(|member| (Cow::Borrowed(member), method.name(), true))
        }
        _ => None,
    }
}

/// Where a suffix ends. (The derived `Node::end_position` of some suffixes ends at their
/// inner expression, not at the closing bracket.)
fn suffix_end(suffix: &Suffix) -> Option<Position> {
    let token = match suffix {
        Suffix::Index(Index::Brackets { brackets, .. }) => brackets.tokens().1,
        Suffix::Index(Index::Dot { name, .. }) => name,
        Suffix::Call(Call::AnonymousCall(arguments)) => return arguments_end(arguments),
        Suffix::Call(Call::MethodCall(method)) => return arguments_end(method.args()),
        _ => return suffix.end_position(),
    };
    Some(token.token().end_position())
}

fn arguments_end(arguments: &FunctionArgs) -> Option<Position> {
    let token = match arguments {
        FunctionArgs::Parentheses { parentheses, .. } => parentheses.tokens().1,
        FunctionArgs::String(token) => token,
        FunctionArgs::TableConstructor(table) => table.braces().tokens().1,
        _ => return arguments.end_position(),
    };
    Some(token.token().end_position())
}

/// Where an expression ends (see [`suffix_end`]).
fn expression_end(mut expression: &Expression) -> Option<Position> {
    loop {
        match expression {
            Expression::BinaryOperator { rhs, .. } => expression = rhs,
            Expression::UnaryOperator {
                expression: operand,
                ..
            } => expression = operand,
            Expression::Parentheses { contained, .. } => {
                return Some(contained.tokens().1.token().end_position());
            }
            Expression::FunctionCall(call) => {
                return call.suffixes().last().and_then(suffix_end);
            }
            Expression::Var(Var::Expression(var)) => {
                return var.suffixes().last().and_then(suffix_end);
            }
            other => return other.end_position(),
        }
    }
}

/// `KEYS[2]`'s index when it is a positive whole number literal.
fn literal_index(expression: &Expression) -> Option<u64> {
    let Expression::Number(token) = expression else {
        return None;
    };
    number_token_text(token)
        .and_then(number_text)
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|&index| index > 0)
}

fn number_token_text(token: &TokenReference) -> Option<&str> {
    match token.token_type() {
        TokenType::Number { text } => Some(text.as_str()),
        _ => None,
    }
}

/// Whether an expression can give several values: a call or `...`, not in parentheses.
fn is_multiple(expression: &Expression) -> bool {
    match expression {
        Expression::FunctionCall(_) => true,
        Expression::Symbol(token) => matches!(
            token.token_type(),
            TokenType::Symbol {
                symbol: Symbol::Ellipsis
            }
        ),
        _ => false,
    }
}

fn identifier(token: &TokenReference) -> Option<&str> {
    match token.token_type() {
        TokenType::Identifier { identifier } => Some(identifier.as_str()),
        _ => None,
    }
}

/// What identifies a function body: where its parameter list starts.
pub(crate) fn body_id(body: &FunctionBody) -> usize {
    body.parameters_parentheses()
        .tokens()
        .0
        .token()
        .start_position()
        .bytes()
}

fn location_of(token: &Token) -> Location {
    position_location(token.start_position())
}

fn position_location(position: Position) -> Location {
    Location {
        line: position.line(),
        column: position.character(),
    }
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
