//! Recovering a plain pipeline of `EVALSHA`s from `NOSCRIPT`, in order and exactly once.
//!
//! In a plain pipeline an entry answered `NOSCRIPT` did not run, and every other entry ran (or
//! failed on its own), the later ones included: Redis goes on after an error reply. So after
//! the replies are in, the entries split three ways:
//!
//! - the **trailing run**: the longest run of invocations answered `NOSCRIPT` that ends the
//!   pipeline (or, in a later round, ends what that round sent). Everything that ran came before
//!   all of them, so sending exactly them again, in order, after a reload, runs each once and
//!   keeps the order of everything that runs: this is the usual case, a flush that lands in the
//!   middle of a pipeline of invocations fails every invocation after it;
//! - invocations answered `NOSCRIPT` **before** something that ran (an ordinary command, or an
//!   invocation of a script someone else reloaded in between): running them now would run them
//!   after entries added later, so they are not sent again; each is reported as not run
//!   ([`Error::NotRun`](crate::Error::NotRun)), which is exact, so the caller can decide;
//! - everything else: its reply is final.
//!
//! A round sends one `SCRIPT LOAD` per distinct script of the trailing run (unless another
//! invocation of the process reloaded it after the pipeline was sent: see `flight`), then the
//! run's `EVALSHA`s. A flush can land in that round too; its own trailing run goes again. After
//! [`flight::MAX_RELOADS`] such rounds the last one sends `EVAL`s, which cannot answer
//! `NOSCRIPT`, so the recovery always ends. A `SCRIPT LOAD` that fails (a source the server
//! cannot compile, `OOM`) makes its script's invocations of that round not run, with the load's
//! error.
//!
//! Functions (`FCALL`) follow the same rule: `ERR Function not found` means the call did not
//! run, and a trailing run of such calls goes again after one `FUNCTION LOAD` per distinct
//! library (a load answered `Library ... already exists` counts as done: another client loaded
//! it). There is no `EVAL` for a function, so a round never stops a `FUNCTION FLUSH` storm for
//! good: every round sends the loads again, and what still misses its library after the last
//! round is reported as not run.

use redis::{Cmd, Value};

use crate::flight;
use crate::pipeline::{LoadKey, Outcome, ScriptInfo};

pub(crate) fn is_noscript_value(value: &Value) -> bool {
    matches!(value, Value::ServerError(error) if crate::error::is_noscript_reply(error))
}

/// The distinct libraries of the functions among `entries`, to load in front of a pipeline.
pub(crate) fn libraries<'a>(entries: impl Iterator<Item = &'a ScriptInfo>) -> Vec<&'a ScriptInfo> {
    let mut libraries: Vec<&'a ScriptInfo> = Vec::new();
    for entry in entries {
        if entry.is_function()
            && !libraries
                .iter()
                .any(|known| known.load_key() == entry.load_key())
        {
            libraries.push(entry);
        }
    }
    libraries
}

/// `EVAL source numkeys keys... args...` from an `EVALSHA sha1 numkeys ...` command; a
/// function's `FCALL` as it is, since a function has no such form.
pub(crate) fn eval_from_evalsha(script: &ScriptInfo, evalsha: &Cmd) -> Cmd {
    if script.is_function() {
        return evalsha.clone();
    }
    let (count, bytes) = evalsha
        .args_iter()
        .fold((0, 0), |(count, bytes), arg| match arg {
            redis::Arg::Simple(arg) => (count + 1, bytes + arg.len()),
            _ => (count + 1, bytes),
        });
    let mut eval = Cmd::with_capacity(count, script.source.len() + bytes);
    eval.arg(if script.read_only { "EVAL_RO" } else { "EVAL" });
    eval.arg(script.source);
    for arg in evalsha.args_iter().skip(2) {
        if let redis::Arg::Simple(bytes) = arg {
            eval.arg(bytes);
        }
    }
    eval
}

/// The recovery of one plain pipeline: what to send again, what did not run.
pub(crate) struct Plain<'a> {
    /// Per entry, the script of an invocation sent as `EVALSHA` (`None` for anything else).
    scripts: Vec<Option<&'a ScriptInfo>>,
    /// Per entry, the command as first sent.
    commands: Vec<&'a Cmd>,
    /// The entries to send in the next round, in the order added.
    pending: Vec<usize>,
    /// Per entry, whether it is known not to have run.
    not_run: Vec<bool>,
    rounds: usize,
}

impl<'a> Plain<'a> {
    /// `None` when no reply is `NOSCRIPT` (one pass over the replies, nothing allocated).
    pub(crate) fn start(
        scripts: Vec<Option<&'a ScriptInfo>>,
        commands: Vec<&'a Cmd>,
        values: &[Value],
    ) -> Option<Self> {
        if !any_missed(&scripts, values) {
            return None;
        }
        let mut recovery = Plain {
            not_run: vec![false; values.len()],
            scripts,
            commands,
            pending: Vec::new(),
            rounds: 0,
        };
        let all: Vec<usize> = (0..values.len()).collect();
        recovery.plan(&all, values, &[]);
        Some(recovery)
    }

    pub(crate) fn done(&self) -> bool {
        self.pending.is_empty()
    }

    /// Whether the next round is the last, sent as `EVAL`.
    pub(crate) fn last_round(&self) -> bool {
        self.rounds >= flight::MAX_RELOADS
    }

    /// The distinct scripts and libraries of the next round.
    pub(crate) fn pending_scripts(&self) -> Vec<&'a ScriptInfo> {
        let mut scripts: Vec<&'a ScriptInfo> = Vec::new();
        for &entry in &self.pending {
            if let Some(script) = self.scripts[entry]
                && !scripts
                    .iter()
                    .any(|known| known.load_key() == script.load_key())
            {
                scripts.push(script);
            }
        }
        scripts
    }

    /// The next round: `SCRIPT LOAD` of `loads`, then the pending invocations (as `EVAL` in the
    /// last round, when `loads` is empty).
    pub(crate) fn round(&self, loads: &[&ScriptInfo]) -> redis::Pipeline {
        let mut pipeline = redis::Pipeline::with_capacity(loads.len() + self.pending.len());
        for script in loads {
            pipeline.add_command(script.load_command());
        }
        let last = self.last_round();
        for &entry in &self.pending {
            let command = self.commands[entry];
            match self.scripts[entry] {
                Some(script) if last => pipeline.add_command(eval_from_evalsha(script, command)),
                _ => pipeline.add_command(command.clone()),
            };
        }
        pipeline
    }

    /// Takes a round's replies (the loads' first) into `values`; returns whether each script
    /// load succeeded, for `flight` (library loads have no loader there).
    pub(crate) fn settle(
        &mut self,
        loads: &[&ScriptInfo],
        replies: Vec<Value>,
        values: &mut [Value],
    ) -> Vec<bool> {
        self.rounds += 1;
        let mut replies = replies.into_iter();
        let mut failed: Vec<(LoadKey, Value)> = Vec::new();
        let mut loaded = Vec::with_capacity(loads.len());
        for script in loads {
            let reply = replies.next().unwrap_or(Value::Nil);
            let ok = !script.load_failed(&reply);
            if !ok {
                failed.push((script.load_key(), reply));
            }
            if !script.is_function() {
                loaded.push(ok);
            }
        }
        let sent = std::mem::take(&mut self.pending);
        for &entry in &sent {
            values[entry] = replies.next().unwrap_or(Value::Nil);
        }
        for (entry, error) in self.plan(&sent, values, &failed) {
            values[entry] = error;
        }
        loaded
    }

    /// Splits `sent` (in order) into the trailing run to send again and the `NOSCRIPT`s before
    /// it, which did not run and cannot be sent again without reordering. Returns the replies
    /// to replace: a failed load's error for its invocations.
    fn plan(
        &mut self,
        sent: &[usize],
        values: &[Value],
        failed_loads: &[(LoadKey, Value)],
    ) -> Vec<(usize, Value)> {
        let missed =
            |entry: usize| self.scripts[entry].is_some_and(|script| script.missed(&values[entry]));
        let mut replaced = Vec::new();
        let mut trailing = sent.len();
        while trailing > 0 && missed(sent[trailing - 1]) {
            trailing -= 1;
        }
        for &entry in &sent[..trailing] {
            if missed(entry) {
                self.not_run[entry] = true;
            }
        }
        // Functions have no `EVAL` to end the rounds with: after the last round, what still
        // misses its library did not run.
        let exhausted = self.rounds > flight::MAX_RELOADS;
        for &entry in &sent[trailing..] {
            let script = self.scripts[entry];
            let failed_load = script.and_then(|script| {
                failed_loads
                    .iter()
                    .find(|(key, _)| *key == script.load_key())
            });
            match failed_load {
                Some((_, error)) => {
                    replaced.push((entry, error.clone()));
                    self.not_run[entry] = true;
                }
                None if exhausted && script.is_some_and(ScriptInfo::is_function) => {
                    self.not_run[entry] = true;
                }
                None => self.pending.push(entry),
            }
        }
        replaced
    }

    /// Per entry, what is known when the round in flight failed: the entries of that round
    /// (still pending: their replies were lost) are unknown, those reported not run stay so,
    /// and the others replied in an earlier round.
    pub(crate) fn into_outcomes(self) -> Vec<Outcome> {
        let pending = self.pending.clone();
        let mut outcomes: Vec<Outcome> = self
            .into_not_run()
            .into_iter()
            .map(|not_run| {
                if not_run {
                    Outcome::NotRun
                } else {
                    Outcome::Replied
                }
            })
            .collect();
        for entry in pending {
            if let Some(outcome) = outcomes.get_mut(entry) {
                *outcome = Outcome::Unknown;
            }
        }
        outcomes
    }

    /// Per entry, whether it did not run. The scripts of those are forgotten by `flight`, so
    /// that the next pipeline mixing them loads them up front.
    pub(crate) fn into_not_run(self) -> Vec<bool> {
        for (script, &not_run) in self.scripts.iter().zip(&self.not_run) {
            if let (Some(script), true) = (script, not_run)
                && !script.is_function()
            {
                flight::forget(script.sha1);
            }
        }
        self.not_run
    }
}

/// Whether any invocation's reply says it did not run for want of its script or library.
pub(crate) fn any_missed(scripts: &[Option<&ScriptInfo>], values: &[Value]) -> bool {
    scripts
        .iter()
        .zip(values)
        .any(|(script, value)| script.is_some_and(|script| script.missed(value)))
}

/// The distinct scripts of `scripts`, when there are two or more (empty for one: a pipeline of
/// one script cannot have one of its scripts cached and another not). Functions are left out:
/// their libraries are loaded up front by [`libraries`].
pub(crate) fn mixed<'a>(
    scripts: impl Iterator<Item = &'a ScriptInfo> + Clone,
) -> Vec<&'a ScriptInfo> {
    let scripts = scripts.filter(|script| !script.is_function());
    // The common case, one script, without allocating.
    let mut all = scripts.clone();
    if let Some(first) = all.next()
        && all.all(|script| script.sha1 == first.sha1)
    {
        return Vec::new();
    }
    let mut distinct: Vec<&'a ScriptInfo> = Vec::new();
    for script in scripts {
        if !distinct.iter().any(|known| known.sha1 == script.sha1) {
            distinct.push(script);
        }
    }
    if distinct.len() < 2 {
        distinct.clear();
    }
    distinct
}

/// The scripts of a mixed pipeline that this process never loaded, to load up front (see
/// `flight::first_loads`), with their loaders.
pub(crate) fn first_loads<'a>(
    scripts: &[&'a ScriptInfo],
) -> (Vec<&'a ScriptInfo>, Vec<flight::Loader>) {
    if scripts.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut loads = Vec::new();
    let mut loaders = Vec::new();
    for (sha1, loader) in flight::first_loads(scripts.iter().map(|script| script.sha1)) {
        if let Some(script) = scripts.iter().find(|script| script.sha1 == sha1) {
            loads.push(*script);
            loaders.push(loader);
        }
    }
    (loads, loaders)
}

/// Takes the replies of the loads sent in front of a pipeline off its replies, and reports
/// the scripts' to their loaders.
pub(crate) fn take_loads(
    values: &mut Vec<Value>,
    loads: &[&ScriptInfo],
    loaders: Vec<flight::Loader>,
) {
    let count = loads.len().min(values.len());
    let mut loaded = Vec::with_capacity(loaders.len());
    for (script, reply) in loads.iter().zip(values.drain(..count)) {
        if !script.is_function() {
            loaded.push(!script.load_failed(&reply));
        }
    }
    finish(loaders, loaded);
}

/// The `flight` decisions of one round, synchronously: which scripts to load.
pub(crate) fn loads_sync<'a>(
    recovery: &Plain<'a>,
    mark: u64,
) -> (Vec<&'a ScriptInfo>, Vec<flight::Loader>) {
    let mut loads = Vec::new();
    let mut loaders = Vec::new();
    for script in recovery.pending_scripts() {
        // A library is loaded every round, the last included (there is no `EVAL` for it).
        if script.is_function() {
            loads.push(script);
            continue;
        }
        if recovery.last_round() {
            continue;
        }
        if let flight::Next::Load(loader) = flight::after_noscript(script.sha1, mark) {
            loads.push(script);
            loaders.push(loader);
        }
    }
    (loads, loaders)
}

/// [`loads_sync`], waiting for loads other tasks have in flight.
pub(crate) async fn loads_async<'a>(
    recovery: &Plain<'a>,
    mark: u64,
) -> (Vec<&'a ScriptInfo>, Vec<flight::Loader>) {
    let mut loads = Vec::new();
    let mut loaders = Vec::new();
    for script in recovery.pending_scripts() {
        if script.is_function() {
            loads.push(script);
            continue;
        }
        if recovery.last_round() {
            continue;
        }
        if let flight::Next::Load(loader) = flight::after_noscript_async(script.sha1, mark).await {
            loads.push(script);
            loaders.push(loader);
        }
    }
    (loads, loaders)
}

pub(crate) fn finish(loaders: Vec<flight::Loader>, loaded: Vec<bool>) {
    for (loader, loaded) in loaders.into_iter().zip(loaded) {
        loader.finish(loaded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noscript() -> Value {
        match redis::parse_redis_value(b"-NOSCRIPT No matching script.\r\n") {
            Ok(value) => value,
            Err(error) => panic!("{error}"),
        }
    }

    fn info(sha1: &'static str) -> ScriptInfo {
        ScriptInfo {
            name: "X",
            path: "x.lua",
            source: "return 1",
            sha1,
            read_only: false,
            guard_slots: false,
            slot_args: &[],
            may_reply_own_error: true,
            function: None,
        }
    }

    #[test]
    fn the_trailing_run_goes_again_and_earlier_noscripts_did_not_run() {
        let (a, b) = (info("a"), info("b"));
        let command = redis::cmd("EVALSHA");
        let plain = redis::cmd("GET");
        // a ok, a NOSCRIPT, GET ran, b NOSCRIPT, a NOSCRIPT
        let scripts = vec![Some(&a), Some(&a), None, Some(&b), Some(&a)];
        let commands = vec![&command, &command, &plain, &command, &command];
        let mut values = vec![
            Value::Int(1),
            noscript(),
            Value::Nil,
            noscript(),
            noscript(),
        ];
        let recovery = Plain::start(scripts, commands, &values).expect("noscripts");
        assert_eq!(recovery.pending, [3, 4]);
        let shas: Vec<&str> = recovery
            .pending_scripts()
            .iter()
            .map(|script| script.sha1)
            .collect();
        assert_eq!(shas, ["b", "a"]);
        let mut recovery = recovery;
        // The round: load b, load a, then b ran and a got NOSCRIPT again (a new flush).
        let loads = recovery.pending_scripts();
        let loaded = recovery.settle(
            &loads,
            vec![Value::Okay, Value::Okay, Value::Int(7), noscript()],
            &mut values,
        );
        assert_eq!(loaded, [true, true]);
        assert_eq!(recovery.pending, [4]);
        assert_eq!(values[3], Value::Int(7));
        let not_run = recovery.into_not_run();
        assert_eq!(not_run, [false, true, false, false, false]);
    }

    #[test]
    fn a_failed_round_leaves_its_entries_unknown_and_keeps_the_rest() {
        let (a, b) = (info("a"), info("b"));
        let command = redis::cmd("EVALSHA");
        let plain = redis::cmd("GET");
        // a ran, b NOSCRIPT before GET (not run), GET ran, a and a NOSCRIPT (sent again).
        let scripts = vec![Some(&a), Some(&b), None, Some(&a), Some(&a)];
        let commands = vec![&command, &command, &plain, &command, &command];
        let values = vec![
            Value::Int(1),
            noscript(),
            Value::Nil,
            noscript(),
            noscript(),
        ];
        let recovery = Plain::start(scripts, commands, &values).expect("noscripts");
        assert_eq!(recovery.pending, [3, 4]);
        // The round that sends 3 and 4 fails: they may have run; the rest is known.
        assert_eq!(
            recovery.into_outcomes(),
            [
                Outcome::Replied,
                Outcome::NotRun,
                Outcome::Replied,
                Outcome::Unknown,
                Outcome::Unknown,
            ]
        );
    }

    #[test]
    fn a_failed_load_leaves_its_invocations_not_run_with_its_error() {
        let a = info("a");
        let command = redis::cmd("EVALSHA");
        let mut values = vec![noscript(), noscript()];
        let mut recovery =
            Plain::start(vec![Some(&a), Some(&a)], vec![&command, &command], &values).unwrap();
        let loads = recovery.pending_scripts();
        let oom = Value::ServerError(match redis::parse_redis_value(b"-OOM no memory\r\n") {
            Ok(Value::ServerError(error)) => error,
            other => panic!("{other:?}"),
        });
        recovery.settle(
            &loads,
            vec![oom.clone(), noscript(), noscript()],
            &mut values,
        );
        assert!(recovery.done());
        assert_eq!(values, [oom.clone(), oom]);
        assert_eq!(recovery.into_not_run(), [true, true]);
    }

    fn not_found() -> Value {
        match redis::parse_redis_value(b"-ERR Function not found\r\n") {
            Ok(value) => value,
            Err(error) => panic!("{error}"),
        }
    }

    fn function(library: &'static str) -> ScriptInfo {
        ScriptInfo {
            sha1: "",
            function: Some(crate::pipeline::FunctionName {
                library,
                function: "f",
            }),
            ..info("")
        }
    }

    #[test]
    fn functions_that_missed_their_library_follow_the_same_rule() {
        let (bank, script) = (function("bank"), info("a"));
        let fcall = redis::cmd("FCALL");
        let get = redis::cmd("GET");
        // bank missed, GET ran, a NOSCRIPT, bank missed: the last two go again; the first
        // did not run. A NOSCRIPT is not a function's miss, nor the reverse.
        let scripts = vec![Some(&bank), None, Some(&script), Some(&bank)];
        let commands = vec![&fcall, &get, &fcall, &fcall];
        let mut values = vec![not_found(), Value::Okay, noscript(), not_found()];
        let mut recovery = Plain::start(scripts, commands, &values).expect("misses");
        assert_eq!(recovery.pending, [2, 3]);
        let loads = recovery.pending_scripts();
        let keys: Vec<_> = loads.iter().map(|load| load.load_key()).collect();
        assert_eq!(keys, [(false, "a"), (true, "bank")]);
        // The library exists already (another client loaded it): as good as loaded.
        let exists = match redis::parse_redis_value(b"-ERR Library 'bank' already exists\r\n") {
            Ok(value) => value,
            Err(error) => panic!("{error}"),
        };
        let loaded = recovery.settle(
            &loads,
            vec![Value::Okay, exists, Value::Int(1), not_found()],
            &mut values,
        );
        assert_eq!(loaded, [true], "only the script's load has a loader");
        assert_eq!(recovery.pending, [3]);
        // A flush in every round: after the last, the call is reported as not run.
        while !recovery.done() {
            let loads = recovery.pending_scripts();
            assert_eq!(loads.len(), 1, "the library is loaded every round");
            recovery.settle(&loads, vec![Value::Okay, not_found()], &mut values);
        }
        assert_eq!(recovery.rounds, flight::MAX_RELOADS + 1);
        assert_eq!(recovery.into_not_run(), [true, false, false, true]);
    }

    #[test]
    fn the_last_round_is_eval() {
        let a = info("a");
        let mut command = redis::cmd("EVALSHA");
        command.arg("a").arg(1).arg("k");
        let mut values = vec![noscript()];
        let mut recovery = Plain::start(vec![Some(&a)], vec![&command], &values).unwrap();
        for _ in 0..flight::MAX_RELOADS {
            recovery.settle(&[], vec![noscript()], &mut values);
        }
        assert!(recovery.last_round());
        let round = recovery.round(&[]);
        let sent: Vec<Vec<u8>> = round
            .cmd_iter()
            .next()
            .unwrap()
            .args_iter()
            .map(|arg| match arg {
                redis::Arg::Simple(bytes) => bytes.to_vec(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(sent, [&b"EVAL"[..], b"return 1", b"1", b"k"]);
    }
}
