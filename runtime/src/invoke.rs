//! Sending a script: `EVALSHA`, and on `NOSCRIPT` one `EVAL` with the source.
//!
//! `NOSCRIPT` is the server saying it ran nothing, so answering it with `EVAL` can neither lose
//! nor repeat the script's work. `EVAL` also caches the script, so later calls are `EVALSHA`
//! again; the one extra round trip is paid once per flush, restart or failover.

use std::any::type_name;

use redis::{Arg, Cmd, ErrorKind, FromRedisValue, RedisResult, ServerErrorKind, Value};

use crate::{Error, Script};

/// What the invocation needs to know of the script besides the command: the same for every
/// call, so it is built from constants.
#[derive(Clone, Copy)]
pub(crate) struct Details {
    pub(crate) name: &'static str,
    pub(crate) sha1: &'static str,
    pub(crate) path: &'static str,
    source: &'static str,
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
    matches!(reply, Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript))
}

pub(crate) fn server_error_as_err(reply: RedisResult<Value>) -> RedisResult<Value> {
    reply.and_then(Value::extract_error)
}

pub(crate) fn invoke<T, C>(evalsha: &Cmd, details: Details, connection: &mut C) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let span = details.span(evalsha);
    let _entered = span.entered_guard();
    details.check_slots(evalsha)?;
    let mut reply = server_error_as_err(connection.req_command(evalsha));
    if is_noscript(&reply) {
        span.record_fallback();
        reply = server_error_as_err(connection.req_command(&details.eval_command(evalsha)));
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
        let mut reply = server_error_as_err(connection.req_packed_command(&evalsha).await);
        if is_noscript(&reply) {
            span.record_fallback();
            let eval = details.eval_command(&evalsha);
            reply = server_error_as_err(connection.req_packed_command(&eval).await);
        }
        details.convert(reply)
    };
    span.instrument(run).await
}
