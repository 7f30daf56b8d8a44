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
    path: &'static str,
    source: &'static str,
    read_only: bool,
}

impl Details {
    pub(crate) fn of<S: Script + ?Sized>() -> Self {
        Details {
            path: S::PATH,
            source: S::SOURCE,
            read_only: S::FLAGS.no_writes,
        }
    }

    /// `EVAL source numkeys keys... args...`, from the `EVALSHA sha1 ...` command.
    fn eval_command(&self, evalsha: &Cmd) -> Cmd {
        let mut eval = redis::cmd(if self.read_only { "EVAL_RO" } else { "EVAL" });
        eval.arg(self.source);
        for arg in evalsha.args_iter().skip(2) {
            if let Arg::Simple(bytes) = arg {
                eval.arg(bytes);
            }
        }
        eval
    }

    fn convert<T: FromRedisValue>(&self, reply: RedisResult<Value>) -> Result<T, Error> {
        let value = reply.map_err(|error| Error::from_reply(error, self.path, self.source))?;
        T::from_redis_value(value).map_err(|error| Error::Conversion {
            path: self.path,
            expected: type_name::<T>(),
            source: error.into(),
        })
    }
}

fn is_noscript(reply: &RedisResult<Value>) -> bool {
    matches!(reply, Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript))
}

fn server_error_as_err(reply: RedisResult<Value>) -> RedisResult<Value> {
    reply.and_then(Value::extract_error)
}

pub(crate) fn invoke<T, C>(evalsha: &Cmd, details: Details, connection: &mut C) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let mut reply = server_error_as_err(connection.req_command(evalsha));
    if is_noscript(&reply) {
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
    let mut reply = server_error_as_err(connection.req_packed_command(&evalsha).await);
    if is_noscript(&reply) {
        let eval = details.eval_command(&evalsha);
        reply = server_error_as_err(connection.req_packed_command(&eval).await);
    }
    details.convert(reply)
}
