//! Calling a function: `FCALL` (or `FCALL_RO`), and when the server has no such function, loading
//! its library and calling once more.
//!
//! `ERR Function not found` is the server saying it ran nothing, so loading and calling again
//! can neither lose nor repeat the function's work. On a standalone server the load and the
//! second call are one transaction, `MULTI` / `FUNCTION LOAD` / `FCALL` / `EXEC`: a
//! `FUNCTION FLUSH` (or `FUNCTION DELETE`) from another client cannot come between them, so the
//! second call cannot miss the library again. A load refused because the library now exists
//! (another client loaded it first) leaves the call in the transaction to run all the same.
//!
//! The `redis` crate's cluster connections cannot run a transaction on a chosen node, so there
//! the library is loaded on every primary (where the crate routes `FUNCTION LOAD`, and whence
//! replicas get it) and the call sent again; should the library vanish again in between, the
//! call fails with [`Error::FunctionMissing`] and ran nowhere.
//!
//! The library is never loaded with `REPLACE` here: a call that finds the library present but
//! the function missing is talking to another version of it (a rolling deploy), and replacing
//! it from an invocation would let old and new instances overwrite each other's code.

use std::any::type_name;

use redis::{Cmd, FromRedisValue, RedisError, RedisResult, Value};

use crate::invoke::server_error_as_err;
use crate::{Error, Function};

/// What an invocation needs to know of the function besides the command: constants.
#[derive(Clone, Copy)]
pub(crate) struct Details {
    pub(crate) name: &'static str,
    pub(crate) library: &'static str,
    pub(crate) function: &'static str,
    pub(crate) path: &'static str,
    pub(crate) source: &'static str,
    pub(crate) read_only: bool,
    guard_slots: bool,
    slot_args: &'static [usize],
}

impl Details {
    pub(crate) fn of<F: Function + ?Sized>() -> Self {
        Details {
            name: F::NAME,
            library: F::LIBRARY,
            function: F::FUNCTION,
            path: F::PATH,
            source: F::SOURCE,
            read_only: F::FLAGS.no_writes,
            guard_slots: F::SLOT_GUARD,
            slot_args: F::SLOT_ARGS,
        }
    }

    /// The runtime slot guard, before any network I/O. `FCALL name numkeys keys...` has the
    /// layout of `EVALSHA sha1 numkeys keys...`, which the guard reads.
    #[inline]
    pub(crate) fn check_slots(&self, fcall: &Cmd) -> Result<(), Error> {
        if self.guard_slots {
            crate::slot_guard::check(fcall, self.name, self.slot_args)
        } else {
            Ok(())
        }
    }

    /// `FUNCTION LOAD code`: without `REPLACE` (see the module documentation).
    pub(crate) fn load_command(&self) -> Cmd {
        load_command(self.source, false)
    }

    /// `MULTI`, `FUNCTION LOAD`, the call, `EXEC`: the reply of interest is `EXEC`'s, at
    /// offset 3.
    pub(crate) fn load_and_call(&self, fcall: &Cmd) -> redis::Pipeline {
        let mut transaction = redis::pipe();
        transaction
            .atomic()
            .add_command(self.load_command())
            .add_command(fcall.clone());
        transaction
    }

    /// Converts the reply of a call (the first, or the one sent again after a load).
    pub(crate) fn convert<T: FromRedisValue>(&self, reply: RedisResult<Value>) -> Result<T, Error> {
        let value = reply.map_err(|error| self.error(error))?;
        T::from_redis_value(value).map_err(|error| Error::Conversion {
            path: self.path,
            expected: type_name::<T>(),
            source: error.into(),
        })
    }

    /// Converts the reply of the call sent again after `load` (the load's reply, which is
    /// `Ok` also when the library already existed): a call that still finds no function gets
    /// the load's error if it failed, [`Error::FunctionMissing`] otherwise.
    pub(crate) fn convert_after_load<T: FromRedisValue>(
        &self,
        load: RedisResult<Value>,
        reply: RedisResult<Value>,
    ) -> Result<T, Error> {
        match reply {
            Err(error) if is_function_missing(&error) => Err(match load {
                Err(load) => Error::LibraryLoad {
                    library: self.library,
                    path: self.path,
                    source: load,
                },
                Ok(_) => Error::FunctionMissing {
                    function: self.function,
                    library: self.library,
                    path: self.path,
                    source: error,
                },
            }),
            reply => self.convert(reply),
        }
    }

    /// The outcome of the load-and-call transaction, from `EXEC`'s reply.
    pub(crate) fn finish_transaction<T: FromRedisValue>(
        &self,
        exec: RedisResult<Vec<Value>>,
    ) -> Result<T, Error> {
        let items = match exec.map_err(|error| self.refused(error))?.pop() {
            Some(Value::Array(items)) => items,
            Some(Value::ServerError(error)) => return Err(self.refused(error.into())),
            other => {
                return Err(Error::Redis(RedisError::from((
                    redis::ErrorKind::Client,
                    "unexpected EXEC reply to FUNCTION LOAD and FCALL",
                    format!("expected an array of two replies, got {other:?}"),
                ))));
            }
        };
        let mut items = items.into_iter();
        let (Some(load), Some(call), None) = (items.next(), items.next(), items.next()) else {
            return Err(Error::Redis(RedisError::from((
                redis::ErrorKind::Client,
                "unexpected EXEC reply to FUNCTION LOAD and FCALL",
                "expected two replies".to_owned(),
            ))));
        };
        self.convert_after_load(tolerate_existing(load), server_error_as_err(Ok(call)))
    }

    /// The reload transaction refused whole, as the call alone would be: [`Error::Busy`] or
    /// [`Error::OutOfMemory`] (the `FUNCTION LOAD` is refused first, for the call's reason).
    fn refused(&self, error: RedisError) -> Error {
        match crate::error::Refusal::of_transaction(&error) {
            Some(refusal) => refusal.error(self.path, None, error),
            None => Error::from_wire(error),
        }
    }

    fn error(&self, error: RedisError) -> Error {
        Error::from_reply(error, self.path, self.source)
    }
}

/// `FUNCTION LOAD [REPLACE] code`.
pub(crate) fn load_command(source: &str, replace: bool) -> Cmd {
    let mut command = redis::cmd("FUNCTION");
    command.arg("LOAD");
    if replace {
        command.arg("REPLACE");
    }
    command.arg(source);
    command
}

/// Redis 7 answers `FCALL` of a function it does not have (no library registers it, or the
/// library was flushed or deleted) with exactly this, code `ERR`.
const FUNCTION_NOT_FOUND: &str = "Function not found";

pub(crate) fn is_function_missing(error: &RedisError) -> bool {
    error.code() == Some("ERR") && error.detail().map(str::trim) == Some(FUNCTION_NOT_FOUND)
}

pub(crate) fn is_missing_reply(reply: &RedisResult<Value>) -> bool {
    matches!(reply, Err(error) if is_function_missing(error))
}

/// `FUNCTION LOAD` answers `ERR Library 'bank' already exists` when another client loaded the
/// library first: for a caller about to call a function of it, that is as good as loading it.
pub(crate) fn is_library_existing(error: &RedisError) -> bool {
    error.code() == Some("ERR")
        && error.detail().is_some_and(|detail| {
            detail.starts_with("Library '") && detail.trim_end().ends_with("' already exists")
        })
}

/// A load's reply, with "already exists" counted as success.
fn tolerate_existing(reply: Value) -> RedisResult<Value> {
    match server_error_as_err(Ok(reply)) {
        Err(error) if is_library_existing(&error) => Ok(Value::Okay),
        reply => reply,
    }
}

/// Whether `C` is one of the `redis` crate's cluster connections, told by its type's path (the
/// crate's cluster connections live in `redis::cluster_handling`), as the pipelines of this
/// crate tell them: they cannot run a transaction on one chosen node.
fn is_cluster_connection<C: ?Sized>() -> bool {
    type_name::<C>().starts_with("redis::cluster_handling::")
}

pub(crate) fn invoke<T, C>(fcall: &Cmd, details: Details, connection: &mut C) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let result = invoke_sync(fcall, details, connection);
    if let Err(error) = &result {
        crate::invoke::close_if_unreadable(connection, error);
    }
    result
}

fn invoke_sync<T, C>(fcall: &Cmd, details: Details, connection: &mut C) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::ConnectionLike + ?Sized,
{
    let span = crate::observe::Span::function_call(details.name, details.function, fcall);
    let _entered = span.entered_guard();
    details.check_slots(fcall)?;
    let reply = server_error_as_err(connection.req_command(fcall));
    if !is_missing_reply(&reply) {
        return details.convert(reply);
    }
    if is_cluster_connection::<C>() {
        let load = server_error_as_err(connection.req_command(&details.load_command()));
        let load = load.or_else(exists_as_ok);
        let reply = server_error_as_err(connection.req_command(fcall));
        return details.convert_after_load(load, reply);
    }
    let transaction = details.load_and_call(fcall);
    let packed = transaction.get_packed_pipeline();
    details.finish_transaction(connection.req_packed_commands(&packed, 3, 1))
}

pub(crate) async fn invoke_async<T, C>(
    fcall: Cmd,
    details: Details,
    connection: &mut C,
) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::aio::ConnectionLike + Send,
{
    let span = crate::observe::Span::function_call(details.name, details.function, &fcall);
    span.instrument(call_async(fcall, details, connection))
        .await
}

async fn call_async<T, C>(fcall: Cmd, details: Details, connection: &mut C) -> Result<T, Error>
where
    T: FromRedisValue,
    C: redis::aio::ConnectionLike + Send,
{
    details.check_slots(&fcall)?;
    let reply = server_error_as_err(connection.req_packed_command(&fcall).await);
    if !is_missing_reply(&reply) {
        return details.convert(reply);
    }
    if is_cluster_connection::<C>() {
        let load =
            server_error_as_err(connection.req_packed_command(&details.load_command()).await);
        let load = load.or_else(exists_as_ok);
        let reply = server_error_as_err(connection.req_packed_command(&fcall).await);
        return details.convert_after_load(load, reply);
    }
    let transaction = details.load_and_call(&fcall);
    details.finish_transaction(connection.req_packed_commands(&transaction, 3, 1).await)
}

/// An error of a load, "already exists" counted as success.
pub(crate) fn exists_as_ok(error: RedisError) -> RedisResult<Value> {
    if is_library_existing(&error) {
        Ok(Value::Okay)
    } else {
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(text: &str) -> RedisError {
        let value = redis::parse_redis_value(format!("-{text}\r\n").as_bytes());
        server_error_as_err(value).expect_err("an error reply")
    }

    #[test]
    fn recognizes_the_servers_answers() {
        // Verbatim from redis-server 7.0.15.
        assert!(is_function_missing(&server_error("ERR Function not found")));
        assert!(!is_function_missing(&server_error(
            "ERR user_function:4: Function not found script: f, on @user_function:4."
        )));
        assert!(is_library_existing(&server_error(
            "ERR Library 'bank' already exists"
        )));
        assert!(!is_library_existing(&server_error(
            "ERR Function transfer already exists"
        )));
    }
}
