//! Sending a script: `EVALSHA`, and on `NOSCRIPT` a reload shared with the other invocations of
//! the process that hit it too (see `flight`).
//!
//! `NOSCRIPT` is the server saying it ran nothing, so answering it with a reload and the
//! `EVALSHA` again can neither lose nor repeat the script's work. The reload is `SCRIPT LOAD`
//! pipelined with the `EVALSHA` (one round trip, as `EVAL` was; the script then stays cached as
//! loaded, which Redis 8 never evicts), sent by one invocation while the others that got
//! `NOSCRIPT` wait for it and then send their `EVALSHA` again: after a flush, 50 tasks on one
//! connection send the source once, not 50 times. On the `redis` crate's cluster connections,
//! which would route a keyless `SCRIPT LOAD` to a random node, the reload is `EVAL`, routed by
//! the key. After [`flight::MAX_RELOADS`] reloads that a new flush undid each time, `EVAL`,
//! which cannot answer `NOSCRIPT`, ends the loop.

use std::any::type_name;

use redis::{Arg, Cmd, ErrorKind, FromRedisValue, RedisError, RedisResult, Value};

use crate::{Error, Script, flight};

/// What the invocation needs to know of the script besides the command: the same for every
/// call, so it is built from constants.
#[derive(Clone, Copy)]
pub(crate) struct Details {
    pub(crate) name: &'static str,
    pub(crate) sha1: &'static str,
    pub(crate) path: &'static str,
    pub(crate) source: &'static str,
    pub(crate) read_only: bool,
    /// Whether to check that the keys share a hash slot: `Script::SLOT_GUARD`, off for
    /// `standalone_only` and `no-cluster` scripts and for those whose proof no value can break.
    /// (`allow-cross-slot-keys` does not relax declared keys: see `slot_guard`.)
    pub(crate) guard_slots: bool,
    /// `Script::SLOT_ARGS`: arguments the slot guard checks with the keys.
    pub(crate) slot_args: &'static [usize],
}

impl Details {
    pub(crate) fn of<S: Script + ?Sized>() -> Self {
        Details {
            name: S::NAME,
            sha1: S::SHA1,
            path: S::PATH,
            source: S::SOURCE,
            read_only: S::FLAGS.no_writes,
            guard_slots: S::SLOT_GUARD,
            slot_args: S::SLOT_ARGS,
        }
    }

    /// The span of one invocation (nothing without the `tracing` feature); invocation paths
    /// call `record_fallback` on it when they answer `NOSCRIPT` with `EVAL`.
    #[inline]
    pub(crate) fn span(&self, evalsha: &Cmd) -> crate::observe::Span {
        crate::observe::Span::invocation(self.name, self.sha1, evalsha)
    }

    /// The runtime slot guard, run before any network I/O.
    #[inline]
    pub(crate) fn check_slots(&self, command: &Cmd) -> Result<(), Error> {
        if self.guard_slots {
            crate::slot_guard::check(command, self.name, self.slot_args)
        } else {
            Ok(())
        }
    }

    /// `EVAL source numkeys keys... args...`, from the `EVALSHA sha1 ...` command.
    pub(crate) fn eval_command(&self, evalsha: &Cmd) -> Cmd {
        let mut eval = redis::cmd(if self.read_only { "EVAL_RO" } else { "EVAL" });
        eval.arg(self.source);
        for arg in evalsha.args_iter().skip(2) {
            if let Arg::Simple(bytes) = arg {
                eval.arg(bytes);
            }
        }
        eval
    }

    pub(crate) fn convert<T: FromRedisValue>(&self, reply: RedisResult<Value>) -> Result<T, Error> {
        let value = reply.map_err(|error| Error::from_reply(error, self.path, self.source))?;
        T::from_redis_value(value).map_err(|error| Error::Conversion {
            path: self.path,
            expected: type_name::<T>(),
            source: error.into(),
        })
    }
}

pub(crate) fn is_noscript(reply: &RedisResult<Value>) -> bool {
    matches!(reply, Err(error) if crate::error::is_noscript_error(error))
}

pub(crate) fn server_error_as_err(reply: RedisResult<Value>) -> RedisResult<Value> {
    reply.and_then(Value::extract_error)
}

/// `SCRIPT LOAD source` then the `EVALSHA`, one round trip: the load leaves the script in the
/// cache as loaded, which newer servers never evict (Redis 8 evicts `EVAL`-cached scripts beyond
/// 500), and a flush that lands between the two costs one more `NOSCRIPT`, never a run.
fn load_and_evalsha(details: &Details, evalsha: &Cmd) -> redis::Pipeline {
    let mut pipeline = redis::Pipeline::with_capacity(2);
    pipeline.add_command(crate::pipeline::load_command(details.source));
    pipeline.add_command(evalsha.clone());
    pipeline
}

/// The reply of a `[SCRIPT LOAD, EVALSHA]` round trip: the load's error if it failed (a source
/// the server cannot compile, `OOM`: the `EVALSHA` then said `NOSCRIPT`), else the `EVALSHA`'s.
fn load_reply(values: RedisResult<Vec<Value>>) -> (bool, RedisResult<Value>) {
    let values = match values {
        Ok(values) => values,
        Err(error) => return (false, Err(error)),
    };
    let mut values = values.into_iter();
    match (values.next(), values.next()) {
        (Some(load), Some(reply)) => match server_error_as_err(Ok(load)) {
            Ok(_) => (true, server_error_as_err(Ok(reply))),
            Err(error) => (false, Err(error)),
        },
        _ => (
            false,
            Err(redis::RedisError::from((
                ErrorKind::Client,
                "a SCRIPT LOAD + EVALSHA pipeline did not get two replies",
            ))),
        ),
    }
}

/// Whether the reload may be a `SCRIPT LOAD` pipelined with the `EVALSHA`: not on the `redis`
/// crate's cluster connections, which route a pipeline by its first command, and `SCRIPT LOAD`
/// has no key (so a random node); there the reload is `EVAL`, routed by the script's key.
fn can_pipeline_load<C: ?Sized>() -> bool {
    !crate::pipeline::is_cluster_connection::<C>()
}

/// `QUIT`, as the server reads it.
const QUIT: &[u8] = b"*1\r\n$4\r\nQUIT\r\n";

/// After a reply that the `redis` crate could not parse, a synchronous connection is out of
/// step: `redis::Connection` keeps the unreadable bytes in its parser and fails every later
/// call the same way, while the server still runs each one. `QUIT` makes the server close the
/// connection (it reads nothing after it), so that nothing sent on it later runs; the caller
/// gets an error for each later call and opens a new connection. The reply to `QUIT` cannot be
/// read either and is ignored. Not on the `redis` crate's cluster connections: they route a
/// keyless command to any node and reconnect by themselves.
pub(crate) fn close_if_unreadable<C>(connection: &mut C, error: &Error)
where
    C: redis::ConnectionLike + ?Sized,
{
    if matches!(error, Error::ReplyUnreadable { .. })
        && !crate::pipeline::is_cluster_connection::<C>()
    {
        let _ = connection.req_packed_command(QUIT);
    }
}

/// [`close_if_unreadable`] for the bare `redis` error of a request on `connection`, which it
/// gives back.
pub(crate) fn close_on_parse_error<C>(connection: &mut C, error: RedisError) -> RedisError
where
    C: redis::ConnectionLike + ?Sized,
{
    if error.kind() == ErrorKind::Parse && !crate::pipeline::is_cluster_connection::<C>() {
        let _ = connection.req_packed_command(QUIT);
    }
    error
}

pub(crate) fn invoke<T, C>(evalsha: &Cmd, details: Details, connection: &mut C) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let result = invoke_sync(evalsha, details, connection);
    if let Err(error) = &result {
        close_if_unreadable(connection, error);
    }
    result
}

fn invoke_sync<T, C>(evalsha: &Cmd, details: Details, connection: &mut C) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let span = details.span(evalsha);
    let _entered = span.entered_guard();
    details.check_slots(evalsha)?;
    let mut mark = flight::mark();
    let mut reply = server_error_as_err(connection.req_command(evalsha));
    let mut attempts = 0;
    while is_noscript(&reply) {
        span.record_fallback();
        attempts += 1;
        if attempts > flight::MAX_RELOADS || !can_pipeline_load::<C>() {
            reply = server_error_as_err(connection.req_command(&details.eval_command(evalsha)));
            break;
        }
        match flight::after_noscript(details.sha1, mark) {
            flight::Next::Retry => {
                mark = flight::mark();
                reply = server_error_as_err(connection.req_command(evalsha));
            }
            flight::Next::Load(loader) => {
                mark = flight::mark();
                let pipeline = load_and_evalsha(&details, evalsha);
                let packed = pipeline.get_packed_pipeline();
                let (loaded, next) = load_reply(connection.req_packed_commands(&packed, 0, 2));
                loader.finish(loaded);
                reply = next;
                if !loaded {
                    break;
                }
            }
        }
    }
    details.convert(reply)
}

pub(crate) async fn invoke_async<T, C>(
    evalsha: Cmd,
    details: Details,
    connection: &mut C,
) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::aio::ConnectionLike + Send,
{
    let span = details.span(&evalsha);
    let run = async {
        details.check_slots(&evalsha)?;
        let mut mark = flight::mark();
        let mut reply = server_error_as_err(connection.req_packed_command(&evalsha).await);
        let mut attempts = 0;
        while is_noscript(&reply) {
            span.record_fallback();
            attempts += 1;
            if attempts > flight::MAX_RELOADS {
                let eval = details.eval_command(&evalsha);
                reply = server_error_as_err(connection.req_packed_command(&eval).await);
                break;
            }
            match flight::after_noscript_async(details.sha1, mark).await {
                flight::Next::Retry => {
                    mark = flight::mark();
                    reply = server_error_as_err(connection.req_packed_command(&evalsha).await);
                }
                flight::Next::Load(loader) if !can_pipeline_load::<C>() => {
                    let eval = details.eval_command(&evalsha);
                    reply = server_error_as_err(connection.req_packed_command(&eval).await);
                    // `EVAL` answers `NOSCRIPT` only through a proxy that splits the cache.
                    loader.finish(!is_noscript(&reply));
                    break;
                }
                flight::Next::Load(loader) => {
                    mark = flight::mark();
                    let pipeline = load_and_evalsha(&details, &evalsha);
                    let values = connection.req_packed_commands(&pipeline, 0, 2).await;
                    let (loaded, next) = load_reply(values);
                    loader.finish(loaded);
                    reply = next;
                    if !loaded {
                        break;
                    }
                }
            }
        }
        details.convert(reply)
    };
    span.instrument(run).await
}
