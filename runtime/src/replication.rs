//! Invoking with a replication wait: `EVALSHA` then `WAIT numreplicas timeout`, pipelined in one
//! round trip, with the `NOSCRIPT` fallback (`EVAL` then `WAIT`) still a single extra one.
//!
//! `WAIT` blocks until the writes of the connection so far reach `numreplicas` replicas or the
//! timeout passes, and answers how many did. Both commands go to the same node: on a standalone
//! connection trivially, on a cluster connection because the `redis` crate routes a pipeline by
//! its first command, the script, hence by the script's first key.
//!
//! Only primaries answer `WAIT`, so a `no-writes` script is sent as `EVALSHA` (and `EVAL`), not
//! `EVALSHA_RO`, when it waits: the `redis` crate routes a read-only first command to a replica
//! when the client reads from replicas, and that replica would refuse the pipeline's `WAIT`.

use std::time::Duration;

use redis::{Cmd, FromRedisValue, RedisResult, Value};

use crate::Error;
use crate::invoke::{Details, is_noscript, server_error_as_err};

/// A script's result together with the number of replicas that acknowledged its writes, as
/// returned by [`Script::invoke_and_wait`](crate::Script::invoke_and_wait).
///
/// `replicas` is `WAIT`'s answer: how many replicas had received every write of the connection
/// up to and including the script's when `WAIT` returned. Fewer than asked means the timeout
/// passed first; the script has run regardless (`WAIT` cannot undo it), but a failover may lose
/// its writes.
///
/// ```
/// use redis_script::Replicated;
///
/// let replicated = Replicated { value: 42_i64, replicas: 1 };
/// assert!(replicated.replicas >= 1, "durable on at least one replica");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replicated<T> {
    /// The script's reply, converted.
    pub value: T,
    /// How many replicas acknowledged the writes (`WAIT`'s reply).
    pub replicas: usize,
}

/// `WAIT numreplicas timeout-in-milliseconds`; a zero timeout means no timeout to Redis.
pub(crate) fn wait_command(replicas: usize, timeout: Duration) -> Cmd {
    let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let mut wait = redis::cmd("WAIT");
    wait.arg(replicas).arg(millis);
    wait
}

/// The two replies of one `[script, WAIT]` round trip.
pub(crate) struct Replies {
    pub(crate) script: RedisResult<Value>,
    pub(crate) wait: RedisResult<Value>,
}

impl Replies {
    pub(crate) fn from_values(values: RedisResult<Vec<Value>>) -> Result<Self, Error> {
        let mut values = match values {
            Ok(values) => values.into_iter(),
            // An I/O error; or, from the `redis` crate's synchronous cluster connection, the
            // first error reply of the pipeline, which it turns into an error of the whole
            // pipeline. That is the script's reply (`NOSCRIPT`, a script error, `MOVED`...)
            // unless the script succeeded and `WAIT` failed, which only a replica does.
            Err(error) => {
                return Ok(Replies {
                    script: Err(error.clone()),
                    wait: Err(error),
                });
            }
        };
        match (values.next(), values.next(), values.next()) {
            (Some(script), Some(wait), None) => Ok(Replies {
                script: server_error_as_err(Ok(script)),
                wait: server_error_as_err(Ok(wait)),
            }),
            _ => Err(Error::Redis(redis::RedisError::from((
                redis::ErrorKind::Client,
                "a pipeline of a script and WAIT did not get exactly two replies",
            )))),
        }
    }

    pub(crate) fn is_noscript(&self) -> bool {
        is_noscript(&self.script)
    }

    pub(crate) fn finish<T: FromRedisValue>(
        self,
        details: &Details,
    ) -> Result<Replicated<T>, Error> {
        let value = details.convert(self.script)?;
        let replicas =
            usize::from_redis_value(self.wait?).map_err(|error| Error::Redis(error.into()))?;
        Ok(Replicated { value, replicas })
    }
}

/// The script's command and details for a pipeline that ends with `WAIT`: `EVALSHA` (and the
/// fallback `EVAL`) even for a `no-writes` script, never the `_RO` forms, so that the pipeline
/// is routed to a primary, the only kind of node that answers `WAIT`. On a primary both forms
/// run a `no-writes` script alike.
pub(crate) fn waiting<S: crate::Script + ?Sized>(script: &S) -> (Cmd, Details) {
    let mut details = Details::of::<S>();
    details.read_only = false;
    (crate::script::evalsha(script, false), details)
}

fn packed(script: &Cmd, wait: &Cmd) -> Vec<u8> {
    let mut bytes = script.get_packed_command();
    wait.write_packed_command(&mut bytes);
    bytes
}

/// `[EVALSHA, WAIT]`, and on `NOSCRIPT` `[EVAL, WAIT]`, on a synchronous connection.
pub(crate) fn invoke_and_wait<T, C>(
    evalsha: &Cmd,
    details: Details,
    wait: &Cmd,
    connection: &mut C,
) -> Result<Replicated<T>, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let result = invoke_and_wait_sync(evalsha, details, wait, connection);
    if let Err(error) = &result {
        crate::invoke::close_if_unreadable(connection, error);
    }
    result
}

fn invoke_and_wait_sync<T, C>(
    evalsha: &Cmd,
    details: Details,
    wait: &Cmd,
    connection: &mut C,
) -> Result<Replicated<T>, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let span = details.span(evalsha);
    let _entered = span.entered_guard();
    details.check_slots(evalsha)?;
    let mut replies =
        Replies::from_values(connection.req_packed_commands(&packed(evalsha, wait), 0, 2))?;
    if replies.is_noscript() {
        span.record_fallback();
        let eval = details.eval_command(evalsha);
        replies = Replies::from_values(connection.req_packed_commands(&packed(&eval, wait), 0, 2))?;
    }
    replies.finish(&details)
}

/// The asynchronous twin of [`invoke_and_wait`].
pub(crate) async fn invoke_and_wait_async<T, C>(
    evalsha: Cmd,
    details: Details,
    wait: Cmd,
    connection: &mut C,
) -> Result<Replicated<T>, Error>
where
    T: FromRedisValue,
    C: redis::aio::ConnectionLike + Send,
{
    let span = details.span(&evalsha);
    let run = async {
        details.check_slots(&evalsha)?;
        let mut pipeline = redis::pipe();
        pipeline.add_command(evalsha).add_command(wait.clone());
        let mut replies =
            Replies::from_values(connection.req_packed_commands(&pipeline, 0, 2).await)?;
        if !replies.is_noscript() {
            return replies.finish(&details);
        }
        span.record_fallback();
        let eval = match pipeline.cmd_iter().next() {
            Some(evalsha) => details.eval_command(evalsha),
            None => return replies.finish(&details),
        };
        let mut pipeline = redis::pipe();
        pipeline.add_command(eval).add_command(wait);
        replies = Replies::from_values(connection.req_packed_commands(&pipeline, 0, 2).await)?;
        replies.finish(&details)
    };
    span.instrument(run).await
}

/// A function's `FCALL` for a pipeline that ends with `WAIT`: never `FCALL_RO`, so that the
/// pipeline is routed to a primary, the only kind of node that answers `WAIT`.
pub(crate) fn waiting_function<F: crate::Function + ?Sized>(
    function: &F,
) -> (Cmd, crate::fcall::Details) {
    let mut fcall = redis::cmd("FCALL");
    fcall.arg(F::FUNCTION);
    function.write_keys_and_args(&mut fcall);
    let mut details = crate::fcall::Details::of::<F>();
    details.read_only = false;
    (fcall, details)
}

/// `[FCALL, WAIT]` on a synchronous connection. A missing library ran nothing: the function is
/// then called as [`Function::invoke`](crate::Function::invoke) calls it (its library loaded
/// first), and `WAIT` sent after it, one more round trip on that path only.
pub(crate) fn invoke_function_and_wait<T, C>(
    fcall: &Cmd,
    details: crate::fcall::Details,
    wait: &Cmd,
    connection: &mut C,
) -> Result<Replicated<T>, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let span = crate::observe::Span::function_call(details.name, details.function, fcall);
    let _entered = span.entered_guard();
    let result = (|| {
        details.check_slots(fcall)?;
        let replies =
            Replies::from_values(connection.req_packed_commands(&packed(fcall, wait), 0, 2))?;
        if !crate::fcall::is_missing_reply(&replies.script) {
            return finish_function(replies, &details);
        }
        let value = crate::fcall::invoke(fcall, details, connection)?;
        Ok(Replicated {
            value,
            replicas: replica_count(connection.req_command(wait))?,
        })
    })();
    if let Err(error) = &result {
        crate::invoke::close_if_unreadable(connection, error);
    }
    result
}

/// The asynchronous twin of [`invoke_function_and_wait`].
pub(crate) async fn invoke_function_and_wait_async<T, C>(
    fcall: Cmd,
    details: crate::fcall::Details,
    wait: Cmd,
    connection: &mut C,
) -> Result<Replicated<T>, Error>
where
    T: FromRedisValue,
    C: redis::aio::ConnectionLike + Send,
{
    let span = crate::observe::Span::function_call(details.name, details.function, &fcall);
    let run = async {
        details.check_slots(&fcall)?;
        let mut pipeline = redis::pipe();
        pipeline
            .add_command(fcall.clone())
            .add_command(wait.clone());
        let replies = Replies::from_values(connection.req_packed_commands(&pipeline, 0, 2).await)?;
        if !crate::fcall::is_missing_reply(&replies.script) {
            return finish_function(replies, &details);
        }
        // The reply stays a `Value` across the `WAIT`, so that the future is `Send` whatever
        // the output type.
        let reply: Value = crate::fcall::invoke_async(fcall, details, connection).await?;
        let replicas = replica_count(connection.req_packed_command(&wait).await)?;
        Ok(Replicated {
            value: details.convert(Ok(reply))?,
            replicas,
        })
    };
    span.instrument(run).await
}

fn finish_function<T: FromRedisValue>(
    replies: Replies,
    details: &crate::fcall::Details,
) -> Result<Replicated<T>, Error> {
    let value = details.convert(replies.script)?;
    Ok(Replicated {
        value,
        replicas: replica_count(replies.wait)?,
    })
}

/// `WAIT`'s answer: how many replicas acknowledged.
fn replica_count(wait: RedisResult<Value>) -> Result<usize, Error> {
    let wait = server_error_as_err(wait)?;
    usize::from_redis_value(wait).map_err(|error| Error::Redis(error.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Script;

    /// A `no-writes` script, as the derive would implement it.
    struct ReadOnly;

    impl crate::Script for ReadOnly {
        type Output = Option<String>;
        const NAME: &'static str = "ReadOnly";
        const PATH: &'static str = "lua/read_only.lua";
        const SOURCE: &'static str = "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])";
        const SHA1: &'static str = "0000000000000000000000000000000000000000";
        const KEY_FIELDS: &'static [&'static str] = &["key"];
        const ARG_FIELDS: &'static [&'static str] = &["an_arg"];
        const FLAGS: crate::ShebangFlags = crate::ShebangFlags {
            no_writes: true,
            allow_oom: false,
            allow_stale: false,
            no_cluster: false,
            allow_cross_slot_keys: false,
        };
        const KEY_TEMPLATES: &'static [Option<&'static str>] = &[None];
        const STANDALONE_ONLY: bool = false;

        fn write_keys_and_args(&self, command: &mut Cmd) {
            command.arg(1).arg("{u}k").arg("an-arg");
        }
    }

    #[test]
    fn a_waiting_read_only_script_is_sent_as_evalsha() {
        assert!(Details::of::<ReadOnly>().read_only);
        assert_eq!(
            ReadOnly.evalsha_command().args_iter().next(),
            Some(redis::Arg::Simple(&b"EVALSHA_RO"[..]))
        );
        let (command, details) = waiting(&ReadOnly);
        assert_eq!(
            command.get_packed_command(),
            redis::cmd("EVALSHA")
                .arg(ReadOnly::SHA1)
                .arg(1)
                .arg("{u}k")
                .arg("an-arg")
                .get_packed_command()
        );
        assert!(!details.read_only);
        let eval = details.eval_command(&command);
        assert_eq!(
            eval.args_iter().next(),
            Some(redis::Arg::Simple(&b"EVAL"[..]))
        );
    }

    #[test]
    fn wait_takes_milliseconds() {
        let wait = wait_command(2, Duration::from_millis(1500));
        assert_eq!(
            wait.get_packed_command(),
            b"*3\r\n$4\r\nWAIT\r\n$1\r\n2\r\n$4\r\n1500\r\n"
        );
    }
}
