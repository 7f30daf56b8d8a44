//! `PipelineExt::query_scripts`: a `redis::Pipeline` holding `EVALSHA`s of derived scripts, sent
//! through a connection wrapper that applies the recovery of `recover` (plain pipelines) or the
//! loads of `ScriptTransaction` (atomic ones), so that `redis`'s own `query` keeps doing what it
//! does with the replies (`ignore()`, `ignore_errors()`, conversion into tuples). The first round
//! of a plain pipeline goes out as `ScriptPipeline::query` sends it (see `chunks`).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use redis::{Cmd, ErrorKind, RedisError, RedisResult, Value};

use crate::Replies;
use crate::pipeline::{ScriptInfo, is_script_flush, load_command};
use crate::recover::{Plain, eval_from_evalsha};

/// What an interrupted `query_scripts` knows of each command, carried inside the I/O error it
/// returns (`redis`'s error type cannot hold it otherwise); `Replies::of_interrupted` finds it.
#[derive(Debug)]
pub(crate) struct Interrupted {
    pub(crate) replies: Replies,
    source: RedisError,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (the pipeline was cut in flight: redis_script::Replies::of_interrupted tells \
             which commands replied, did not run, or may have run)",
            self.source
        )
    }
}

impl std::error::Error for Interrupted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// `error` with `replies` inside, if it is an I/O error (the connection failed, a timeout): an
/// I/O error of the same `std::io::ErrorKind`, so that `is_io_error`, `is_timeout` and
/// `is_connection_dropped` answer as before. Any other error is returned as it is.
fn interrupted(error: RedisError, replies: impl FnOnce(&RedisError) -> Replies) -> RedisError {
    if !error.is_io_error() {
        return error;
    }
    let kind = std::error::Error::source(&error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        // `redis` reports a dropped connection without an `io::Error` too.
        .map_or(std::io::ErrorKind::ConnectionAborted, std::io::Error::kind);
    let replies = replies(&error);
    std::io::Error::new(
        kind,
        Interrupted {
            replies,
            source: error,
        },
    )
    .into()
}

/// Per command of `pipeline`, its derived script.
fn scripts_of(pipeline: &redis::Pipeline) -> Vec<Option<&'static ScriptInfo>> {
    pipeline.cmd_iter().map(script_of).collect()
}

/// Every derived script of the program, by SHA1: the source of an `EVALSHA` found in a
/// `redis::Pipeline`.
fn registered() -> &'static HashMap<&'static str, ScriptInfo> {
    static REGISTERED: OnceLock<HashMap<&'static str, ScriptInfo>> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        inventory::iter::<crate::RegisteredScript>
            .into_iter()
            .map(|script| {
                let info = ScriptInfo {
                    name: script.name,
                    path: script.path,
                    source: script.source,
                    sha1: script.sha1,
                    read_only: script.flags.no_writes,
                    guard_slots: false,
                    slot_args: &[],
                    may_reply_own_error: true,
                    function: None,
                };
                (script.sha1, info)
            })
            .collect()
    })
}

/// The script of an `EVALSHA` / `EVALSHA_RO` of a derived script; `None` for anything else
/// (including an `EVALSHA` of a script this program does not define: the caller's own).
fn script_of(command: &Cmd) -> Option<&'static ScriptInfo> {
    let mut args = command.args_iter();
    let name = match args.next()? {
        redis::Arg::Simple(name) => name,
        _ => return None,
    };
    if !name.eq_ignore_ascii_case(b"EVALSHA") && !name.eq_ignore_ascii_case(b"EVALSHA_RO") {
        return None;
    }
    match args.next()? {
        redis::Arg::Simple(sha1) => registered().get(std::str::from_utf8(sha1).ok()?),
        _ => None,
    }
}

/// A plain pipeline's invocations: per command, its script; and the wire form, with the
/// invocations that an ordinary command follows as `EVAL`.
struct PlainPlan {
    scripts: Vec<Option<&'static ScriptInfo>>,
    /// Entries before this index that are invocations go as `EVAL`.
    eval_before: usize,
}

impl PlainPlan {
    fn of(pipeline: &redis::Pipeline) -> Self {
        let scripts: Vec<Option<&'static ScriptInfo>> =
            pipeline.cmd_iter().map(script_of).collect();
        let last_command = scripts.iter().rposition(Option::is_none);
        let first_invocation = scripts.iter().position(Option::is_some);
        let eval_before = match (first_invocation, last_command) {
            (Some(first), Some(last)) if first < last => last,
            _ => 0,
        };
        PlainPlan {
            scripts,
            eval_before,
        }
    }

    /// The loads to send in front (see `flight::first_loads`).
    fn first_loads(&self) -> (Vec<&'static ScriptInfo>, Vec<crate::flight::Loader>) {
        let mixed =
            crate::recover::mixed(self.scripts[self.eval_before..].iter().flatten().copied());
        crate::recover::first_loads(&mixed)
    }

    fn wire(&self, pipeline: &redis::Pipeline, loads: &[&ScriptInfo]) -> Option<redis::Pipeline> {
        if self.eval_before == 0 && loads.is_empty() {
            return None;
        }
        let mut wire = redis::Pipeline::with_capacity(loads.len() + pipeline.len());
        for script in loads {
            wire.add_command(load_command(script.source));
        }
        for (index, command) in pipeline.cmd_iter().enumerate() {
            match self.scripts[index] {
                Some(script) if index < self.eval_before => {
                    wire.add_command(eval_from_evalsha(script, command))
                }
                _ => wire.add_command(command.clone()),
            };
        }
        Some(wire)
    }

    fn recovery<'a>(&self, pipeline: &'a redis::Pipeline, values: &[Value]) -> Option<Plain<'a>> {
        if !values.iter().any(crate::recover::is_noscript_value) {
            return None;
        }
        let scripts = self
            .scripts
            .iter()
            .enumerate()
            .map(|(index, script)| {
                if index < self.eval_before {
                    None
                } else {
                    *script
                }
            })
            .collect();
        Plain::start(scripts, pipeline.cmd_iter().collect(), values)
    }
}

/// An atomic pipeline rewritten as `ScriptTransaction` sends it: a `SCRIPT LOAD` inside
/// `MULTI` before the first invocation of each script (again after a `SCRIPT FLUSH` in it).
struct TransactionPlan {
    wire: redis::Pipeline,
    /// Per command inside `MULTI` ... `EXEC`: `None` for an added load, else the index of the
    /// caller's command and the position in the wire of the load its invocation relies on.
    sent: Vec<Option<(usize, Option<usize>)>>,
}

impl TransactionPlan {
    fn of(pipeline: &redis::Pipeline) -> Self {
        let mut wire = redis::Pipeline::with_capacity(pipeline.len() + 1);
        wire.atomic();
        let mut sent = Vec::with_capacity(pipeline.len() + 1);
        let mut loaded: Vec<(&str, usize)> = Vec::new();
        for (index, command) in pipeline.cmd_iter().enumerate() {
            let load = script_of(command).map(|script| {
                match loaded.iter().find(|(sha1, _)| *sha1 == script.sha1) {
                    Some(&(_, at)) => at,
                    None => {
                        wire.add_command(load_command(script.source));
                        sent.push(None);
                        loaded.push((script.sha1, sent.len() - 1));
                        sent.len() - 1
                    }
                }
            });
            if is_script_flush(command) {
                loaded.clear();
            }
            wire.add_command(command.clone());
            sent.push(Some((index, load)));
        }
        TransactionPlan { wire, sent }
    }

    /// `EXEC`'s reply without the loads' replies; an invocation whose load failed (its
    /// `EVALSHA` then says `NOSCRIPT`) gets the load's error, which says why.
    fn reply(&self, exec: Value) -> Value {
        let items = match exec {
            Value::Array(items) if items.len() == self.sent.len() => items,
            other => return other,
        };
        let mut kept = Vec::with_capacity(items.len());
        let mut failed: Vec<(usize, Value)> = Vec::new();
        for (at, (value, sent)) in items.into_iter().zip(&self.sent).enumerate() {
            match sent {
                None => {
                    if matches!(value, Value::ServerError(_)) {
                        failed.push((at, value));
                    }
                }
                Some((_, load)) => {
                    let failure = load.and_then(|load| {
                        failed
                            .iter()
                            .find(|(at, _)| *at == load)
                            .map(|(_, error)| error.clone())
                    });
                    match failure {
                        Some(error) if crate::recover::is_noscript_value(&value) => {
                            kept.push(error)
                        }
                        _ => kept.push(value),
                    }
                }
            }
        }
        Value::Array(kept)
    }
}

fn count_error(sent: usize, got: usize) -> RedisError {
    RedisError::from((
        ErrorKind::Client,
        "unexpected number of pipeline replies",
        format!("sent {sent} commands, got {got} replies"),
    ))
}

/// The synchronous wrapper: `redis`'s `Pipeline::query` calls `req_packed_commands` on it.
pub(crate) struct Recovering<'a, C: ?Sized> {
    pub(crate) inner: &'a mut C,
    pub(crate) pipeline: &'a redis::Pipeline,
}

impl<C: redis::ConnectionLike + ?Sized> redis::ConnectionLike for Recovering<'_, C> {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        self.inner.req_packed_command(cmd)
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        if self.pipeline.is_transaction() {
            let plan = TransactionPlan::of(self.pipeline);
            let packed = plan.wire.get_packed_pipeline();
            let mut values = self
                .inner
                .req_packed_commands(&packed, plan.sent.len() + 1, 1)
                .map_err(|error| {
                    interrupted(error, |error| {
                        Replies::all_unknown(scripts_of(self.pipeline), error, true)
                    })
                })?;
            let exec = values.pop().unwrap_or(Value::Nil);
            return Ok(vec![plan.reply(exec)]);
        }
        if offset != 0 || count != self.pipeline.len() {
            return self.inner.req_packed_commands(cmd, offset, count);
        }
        let plan = PlainPlan::of(self.pipeline);
        let (loads, loaders) = plan.first_loads();
        let mut mark = crate::flight::mark();
        let wire = plan.wire(self.pipeline, &loads);
        // In chunks on a `redis::Connection` (see `chunks`): a cut keeps per-entry outcomes.
        let sent = match &wire {
            Some(wire) => crate::chunks::send(&mut *self.inner, wire, None),
            None => crate::chunks::send(&mut *self.inner, self.pipeline, Some(cmd)),
        };
        let mut values = match sent {
            Ok(values) => values,
            Err(cut) => {
                let error = cut.error.clone();
                let scripts = scripts_of(self.pipeline);
                return Err(interrupted(error, |_| {
                    crate::pipeline::cut_replies(cut, &loads, loaders, scripts)
                }));
            }
        };
        crate::recover::take_loads(&mut values, &loads, loaders);
        if let Some(mut recovery) = plan.recovery(self.pipeline, &values) {
            while !recovery.done() {
                let (loads, loaders) = crate::recover::loads_sync(&recovery, mark);
                mark = crate::flight::mark();
                let round = recovery.round(&loads);
                let replies =
                    self.inner
                        .req_packed_commands(&round.get_packed_pipeline(), 0, round.len());
                let replies = match replies {
                    Ok(replies) if replies.len() == round.len() => replies,
                    Ok(replies) => return Err(count_error(round.len(), replies.len())),
                    Err(error) => {
                        let scripts = scripts_of(self.pipeline);
                        return Err(interrupted(error, |error| {
                            crate::pipeline::interrupted_round_replies(
                                recovery, values, scripts, error,
                            )
                        }));
                    }
                };
                let loaded = recovery.settle(&loads, replies, &mut values);
                crate::recover::finish(loaders, loaded);
            }
            // The replies themselves say what did not run (`NOSCRIPT`); this only tells `flight`.
            recovery.into_not_run();
        }
        Ok(values)
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }

    fn supports_pipelining(&self) -> bool {
        self.inner.supports_pipelining()
    }

    fn check_connection(&mut self) -> bool {
        self.inner.check_connection()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }
}

/// The asynchronous wrapper: `redis`'s `Pipeline::query_async` hands it the pipeline itself.
pub(crate) struct RecoveringAsync<'a, C> {
    pub(crate) inner: &'a mut C,
}

impl<C: redis::aio::ConnectionLike + Send> redis::aio::ConnectionLike for RecoveringAsync<'_, C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> redis::RedisFuture<'a, Value> {
        self.inner.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            if pipeline.is_transaction() {
                let plan = TransactionPlan::of(pipeline);
                let mut values = self
                    .inner
                    .req_packed_commands(&plan.wire, plan.sent.len() + 1, 1)
                    .await
                    .map_err(|error| {
                        interrupted(error, |error| {
                            Replies::all_unknown(scripts_of(pipeline), error, true)
                        })
                    })?;
                let exec = values.pop().unwrap_or(Value::Nil);
                return Ok(vec![plan.reply(exec)]);
            }
            if offset != 0 || count != pipeline.len() {
                return self
                    .inner
                    .req_packed_commands(pipeline, offset, count)
                    .await;
            }
            let plan = PlainPlan::of(pipeline);
            let (loads, loaders) = plan.first_loads();
            let mut mark = crate::flight::mark();
            let values = match plan.wire(pipeline, &loads) {
                Some(wire) => {
                    self.inner
                        .req_packed_commands(&wire, 0, loads.len() + count)
                        .await
                }
                None => self.inner.req_packed_commands(pipeline, 0, count).await,
            };
            let mut values = values.map_err(|error| {
                interrupted(error, |error| {
                    Replies::all_unknown(scripts_of(pipeline), error, false)
                })
            })?;
            crate::recover::take_loads(&mut values, &loads, loaders);
            if values.len() != count {
                return Err(count_error(count, values.len()));
            }
            if let Some(mut recovery) = plan.recovery(pipeline, &values) {
                while !recovery.done() {
                    let (loads, loaders) = crate::recover::loads_async(&recovery, mark).await;
                    mark = crate::flight::mark();
                    let round = recovery.round(&loads);
                    let replies = self.inner.req_packed_commands(&round, 0, round.len()).await;
                    let replies = match replies {
                        Ok(replies) if replies.len() == round.len() => replies,
                        Ok(replies) => return Err(count_error(round.len(), replies.len())),
                        Err(error) => {
                            let scripts = scripts_of(pipeline);
                            return Err(interrupted(error, |error| {
                                crate::pipeline::interrupted_round_replies(
                                    recovery, values, scripts, error,
                                )
                            }));
                        }
                    };
                    let loaded = recovery.settle(&loads, replies, &mut values);
                    crate::recover::finish(loaders, loaded);
                }
                recovery.into_not_run();
            }
            Ok(values)
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}
