//! What Redis does to a script's reply, against a real `redis-server`: the data loss that the
//! reply lints (`fraction_in_reply`, `nil_in_reply_array`, `string_keys_in_reply`,
//! `reply_type_mismatch`) and `unbounded_unpack` report happens there. Each script allows its
//! lint, so that it compiles and shows the loss.

use std::collections::HashMap;

use redis::Value;
use redis_script::{Error, RedisScript};
use throwaway_redis::RedisServer;

fn server() -> RedisServer {
    RedisServer::start().expect("the tests need redis-server >= 7 (see README)")
}

fn connection(server: &RedisServer) -> redis::Connection {
    server
        .connection()
        .expect("connect to the throwaway server")
}

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/fraction.lua", returns = f64)]
struct Tenth {
    #[arg]
    value: i64,
}

#[test]
fn a_fraction_is_dropped() {
    let server = server();
    let mut con = connection(&server);
    // 37 / 10 is 3.7 in Lua; the reply is the integer 3.
    assert_eq!(Tenth { value: 37 }.invoke(&mut con).unwrap(), 3.0);
    assert_eq!(Tenth { value: -37 }.invoke(&mut con).unwrap(), -3.0);
}

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/nil_in_array.lua", returns = Vec<Option<String>>)]
struct NilInArray;

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/false_in_array.lua", returns = Vec<Option<String>>)]
struct FalseInArray;

#[test]
fn an_array_ends_at_its_first_nil_but_not_at_false() {
    let server = server();
    let mut con = connection(&server);
    assert_eq!(
        NilInArray.invoke(&mut con).unwrap(),
        vec![Some("a".to_owned())]
    );
    // The fix the lint suggests keeps every element.
    assert_eq!(
        FalseInArray.invoke(&mut con).unwrap(),
        vec![Some("a".to_owned()), None, Some("c".to_owned())]
    );
}

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/string_keys.lua")]
struct StringKeys;

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/flat_pairs.lua", returns = HashMap<String, String>)]
struct FlatPairs;

#[test]
fn string_keys_are_dropped() {
    let server = server();
    let mut con = connection(&server);
    assert_eq!(
        StringKeys.invoke(&mut con).unwrap(),
        Value::Array(vec![Value::BulkString(b"a".to_vec())])
    );
    // The fix the lint suggests: a flat array of names and values, read as a map.
    let pairs = FlatPairs.invoke(&mut con).unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs["name"], "x");
    assert_eq!(pairs["score"], "7");
}

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/nil_reply.lua", returns = i64)]
struct NilForInteger;

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/nil_reply.lua", returns = Option<i64>)]
struct NilForOption;

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/nil_in_array.lua", returns = String, allow(reply_type_mismatch))]
struct ArrayForString;

#[test]
fn a_type_that_cannot_hold_the_reply_fails_to_convert() {
    let server = server();
    let mut con = connection(&server);
    assert!(
        matches!(
            NilForInteger.invoke(&mut con),
            Err(Error::Conversion { .. })
        ),
        "`return false` arrives as nil, which an i64 cannot hold"
    );
    assert_eq!(NilForOption.invoke(&mut con).unwrap(), None);
    assert!(matches!(
        ArrayForString.invoke(&mut con),
        Err(Error::Conversion { .. })
    ));
}

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/unpack_all.lua", returns = i64, standalone_only)]
struct DeleteAtOnce {
    #[key(variadic)]
    keys: Vec<String>,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/replies/unpack_chunks.lua", returns = i64, standalone_only)]
struct DeleteInChunks {
    #[key(variadic)]
    keys: Vec<String>,
}

/// The most values `unpack` gives, measured on Redis 7.0.15 (and named in the lint's message).
const UNPACK_LIMIT: usize = 7_999;

#[test]
fn unpack_fails_beyond_its_limit_and_chunks_do_not() {
    let server = server();
    let mut con = connection(&server);
    let keys = |count: usize| {
        (0..count)
            .map(|i| format!("unpack:{i}"))
            .collect::<Vec<_>>()
    };
    let set_all = |con: &mut redis::Connection, count: usize| {
        let pairs: Vec<(String, i64)> = keys(count).into_iter().map(|key| (key, 1)).collect();
        let _: () = redis::cmd("MSET").arg(&pairs).query(con).unwrap();
    };

    set_all(&mut con, UNPACK_LIMIT);
    let deleted = DeleteAtOnce {
        keys: keys(UNPACK_LIMIT),
    }
    .invoke(&mut con);
    assert_eq!(deleted.unwrap(), UNPACK_LIMIT as i64);

    let error = DeleteAtOnce {
        keys: keys(UNPACK_LIMIT + 1),
    }
    .invoke(&mut con)
    .unwrap_err();
    assert!(
        error.to_string().contains("too many results to unpack"),
        "{error}"
    );

    set_all(&mut con, 20_000);
    let deleted = DeleteInChunks { keys: keys(20_000) }.invoke(&mut con);
    assert_eq!(deleted.unwrap(), 20_000);
}
