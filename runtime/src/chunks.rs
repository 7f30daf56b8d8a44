//! The first round of a plain pipeline on a synchronous `redis::Connection`, sent in chunks with
//! a one-chunk lag, so that a failure leaves per-entry knowledge instead of none.
//!
//! `redis::Connection::req_packed_commands(bytes, offset, count)` writes `bytes`, then reads
//! `count` replies into one `Vec` (after skipping `offset`), and when one read fails it keeps
//! reading the rest and returns only the error: every reply of that call is lost. Sent in one
//! call, a pipeline cut by a crash is thus unknown from its first entry to its last, although
//! most of it replied, or never left the client. So the round goes out as chunks
//! `c0, c1, ..., cn`:
//!
//! - call 0 writes `c0` and reads nothing (`count` 0: the crate's read loop does not run);
//! - call `k` writes `ck` and reads the replies of `c(k-1)`, which the server works on while
//!   `ck` is on its way: the server always has the next chunk queued, so the pipelining stays;
//! - the last call writes `cn` and reads the replies of `c(n-1)` and `cn` (nothing else could
//!   read them without sending a command of its own).
//!
//! When call `k` fails (a broken connection, a timeout, an unreadable reply), the replies of
//! the chunks before `c(k-1)` are in hand; `c(k-1)` and `ck` were sent (`ck` maybe in part) and
//! their replies are lost: they may have run; the chunks after `ck` were never written, so
//! they did not run. At most two chunks are unknown.
//!
//! This relies on every call going over one connection, in order. `redis::Client` implements
//! `ConnectionLike` by opening a new connection per call, and a wrapper could do anything, so
//! only `redis::Connection` itself (and `&mut`, `Box` of it) is sent in chunks, told by its
//! type's name as `pipeline::is_cluster_connection` tells cluster connections; anything else
//! gets the pipeline in one call, as before.

use std::any::type_name;

use redis::{ErrorKind, RedisError, Value};

/// Commands per chunk, at most. Small enough that two chunks are a small part of a deep
/// pipeline. The price of chunks is that the server has only about one chunk queued when the
/// client must write the next: with a one-line script that is some 0.2 ms of work, and a client
/// kept off the CPU longer leaves the server idle. 128 measured within a few points of one call
/// on a quiet machine, 64 and 256 no better (`BENCHMARKS.md`, synchronous pipelines).
pub(crate) const CHUNK_COMMANDS: usize = 128;

/// Bytes per chunk: a chunk also ends after the command that brings it to this size, so that a
/// chunk of large commands (`SCRIPT LOAD`s of long sources, big values) is not megabytes
/// written ahead of the replies read. A command is never split.
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;

/// `redis::Connection`, as `type_name` spells it.
const CONNECTION: &str = "redis::connection::Connection";

/// Whether `C` is a `redis::Connection` (or `&mut` / `Box` of one): a single connection on which
/// successive calls go out and come back in order.
pub(crate) fn applies<C: ?Sized>() -> bool {
    let mut name = type_name::<C>();
    loop {
        if let Some(inner) = name.strip_prefix("&mut ") {
            name = inner;
        } else if let Some(inner) = name
            .strip_prefix("alloc::boxed::Box<")
            .and_then(|inner| inner.strip_suffix('>'))
        {
            name = inner;
        } else {
            return name == CONNECTION;
        }
    }
}

/// A first round that failed in flight: what came back, and how far it went out.
#[derive(Debug)]
pub(crate) struct Cut {
    /// The replies read, one per command from the first, in order.
    pub(crate) replies: Vec<Value>,
    /// How many commands, from the first, were written or may have been: those after them
    /// were never written.
    pub(crate) sent: usize,
    /// What cut the round.
    pub(crate) error: RedisError,
}

/// A pipeline's commands packed once, with the end of each chunk: `(commands, bytes)` so far.
struct Packed {
    bytes: Vec<u8>,
    ends: Vec<(usize, usize)>,
}

fn pack(pipeline: &redis::Pipeline) -> Packed {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    let (mut commands, mut start) = (0, 0);
    for command in pipeline.cmd_iter() {
        command.write_packed_command(&mut bytes);
        commands += 1;
        let in_chunk = commands - ends.last().map_or(0, |&(end, _)| end);
        if in_chunk == CHUNK_COMMANDS || bytes.len() - start >= CHUNK_BYTES {
            ends.push((commands, bytes.len()));
            start = bytes.len();
        }
    }
    if ends.last().is_none_or(|&(end, _)| end < commands) {
        ends.push((commands, bytes.len()));
    }
    Packed { bytes, ends }
}

/// Sends the commands of `pipeline` (a plain one) and reads one reply per command: in chunks
/// with a one-chunk lag when [`applies`] to `C`, else in one call (of `packed`, the pipeline
/// already packed, if given). On failure, [`Cut`] says which replies were read and how far the
/// pipeline went out.
pub(crate) fn send<C>(
    connection: &mut C,
    pipeline: &redis::Pipeline,
    packed: Option<&[u8]>,
) -> Result<Vec<Value>, Cut>
where
    C: redis::ConnectionLike + ?Sized,
{
    let total = pipeline.len();
    if !applies::<C>() || total <= CHUNK_COMMANDS {
        return match packed {
            Some(packed) => one_call(connection, packed, total),
            None => one_call(connection, &pipeline.get_packed_pipeline(), total),
        };
    }
    let packed = pack(pipeline);
    if packed.ends.len() == 1 {
        return one_call(connection, &packed.bytes, total);
    }
    let mut replies = Vec::with_capacity(total);
    // Commands written so far, and where the next chunk starts in `packed.bytes`.
    let (mut sent, mut start) = (0, 0);
    for (chunk, &(end, end_byte)) in packed.ends.iter().enumerate() {
        // The previous chunk's replies; in the last call, this chunk's too.
        let count = if chunk + 1 == packed.ends.len() {
            total - replies.len()
        } else {
            sent - replies.len()
        };
        let read = connection.req_packed_commands(&packed.bytes[start..end_byte], 0, count);
        let written = end - sent;
        sent = end;
        start = end_byte;
        match read {
            Ok(read) if read.len() == count => replies.extend(read),
            Ok(read) => {
                // Which reply is whose cannot be told: this call's commands are unknown.
                return Err(Cut {
                    replies,
                    sent,
                    error: count_error(count, read.len()),
                });
            }
            Err(error) => {
                if chunk + 1 < packed.ends.len() {
                    keep_in_step(connection, &error, written);
                }
                return Err(Cut {
                    replies,
                    sent,
                    error,
                });
            }
        }
    }
    Ok(replies)
}

/// `PING`, as the server reads it.
const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

/// After a read timed out, `redis::Connection` stays usable: it counts each reply it could not
/// read and skips that many later (and reads on after the first timeout, so a call accounts
/// for all its replies). A chunked call that fails leaves the replies of the chunk it wrote
/// (`unread` commands) unaccounted, and a later call would take them for its own. So they are
/// read now, behind a `PING` (which runs nothing): read, or counted to skip, as a single call
/// would have. Any other failure needs nothing: a broken connection is closed, and after an
/// unreadable reply the caller closes it (`invoke::close_on_parse_error`).
fn keep_in_step<C>(connection: &mut C, error: &RedisError, unread: usize)
where
    C: redis::ConnectionLike + ?Sized,
{
    if error.is_timeout() && connection.is_open() {
        let _ = connection.req_packed_commands(PING, unread, 1);
    }
}

/// The whole pipeline in one call: on failure, every command may have been sent and no reply
/// is kept.
fn one_call<C>(connection: &mut C, packed: &[u8], total: usize) -> Result<Vec<Value>, Cut>
where
    C: redis::ConnectionLike + ?Sized,
{
    let cut = |error| Cut {
        replies: Vec::new(),
        sent: total,
        error,
    };
    match connection.req_packed_commands(packed, 0, total) {
        Ok(replies) if replies.len() == total => Ok(replies),
        Ok(replies) => Err(cut(count_error(total, replies.len()))),
        Err(error) => Err(cut(error)),
    }
}

fn count_error(sent: usize, got: usize) -> RedisError {
    RedisError::from((
        ErrorKind::Client,
        "unexpected number of pipeline replies",
        format!("expected {sent} replies, got {got}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_single_connection_is_sent_in_chunks() {
        assert!(applies::<redis::Connection>());
        assert!(applies::<&mut redis::Connection>());
        assert!(applies::<Box<redis::Connection>>());
        assert!(applies::<&mut Box<redis::Connection>>());
        // A new connection per call: chunks would mix up replies.
        assert!(!applies::<redis::Client>());
        assert!(!applies::<dyn redis::ConnectionLike>());
        #[cfg(feature = "cluster")]
        assert!(!applies::<redis::cluster::ClusterConnection>());
    }

    fn pipeline_of(sizes: &[usize]) -> redis::Pipeline {
        let mut pipeline = redis::pipe();
        for &size in sizes {
            pipeline.cmd("SET").arg("k").arg(vec![b'x'; size]);
        }
        pipeline
    }

    #[test]
    fn chunks_end_by_commands_or_bytes() {
        let packed = pack(&pipeline_of(&[1; 300]));
        let commands: Vec<usize> = packed.ends.iter().map(|&(end, _)| end).collect();
        assert_eq!(commands, [128, 256, 300]);
        assert_eq!(
            packed.ends.last().map(|&(_, end)| end),
            Some(packed.bytes.len())
        );
        assert_eq!(packed.bytes, pipeline_of(&[1; 300]).get_packed_pipeline());

        let packed = pack(&pipeline_of(&[40_000, 40_000, 10, 70_000, 10]));
        let commands: Vec<usize> = packed.ends.iter().map(|&(end, _)| end).collect();
        assert_eq!(commands, [2, 4, 5]);

        let packed = pack(&pipeline_of(&[1; 256]));
        let commands: Vec<usize> = packed.ends.iter().map(|&(end, _)| end).collect();
        assert_eq!(commands, [128, 256], "no empty chunk at the end");
    }
}
