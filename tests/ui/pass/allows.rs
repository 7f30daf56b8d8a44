// Lints allowed on the struct, on one Lua line, and a field kept unread on purpose.
use redis_script::Script;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/allows.lua", returns = i64, allow(arg_index_out_of_range))]
struct Legacy<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    amount: i64,
    // Old callers still send it; the script stopped reading it.
    #[arg(unread)]
    client_version: &'a str,
}

fn main() {
    assert_eq!(Legacy::ARG_FIELDS, &["amount", "client_version"]);
    let command = Legacy { counter: "c", amount: 2, client_version: "1.0" }.evalsha_command();
    // The unread field is still sent, as ARGV[2].
    assert_eq!(command.args_iter().count(), 6);
}

// The reply lints, allowed on one Lua line and on the struct.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/reply_allows.lua", returns = (i64, Option<i64>))]
struct SecondsLeft<'a> {
    #[key]
    key: &'a str,
}

#[derive(redis_script::RedisScript)]
#[redis_script(
    path = "ui/pass/lua/reply_allows_on_struct.lua",
    returns = (i64,),
    standalone_only,
    allow(unbounded_unpack, nil_in_reply_array, string_keys_in_reply, reply_type_mismatch)
)]
struct DeleteCount<'a> {
    #[key(variadic)]
    keys: &'a [&'a str],
}

#[allow(dead_code)]
fn reply_allows(key: &str, keys: &[&str]) {
    let _ = SecondsLeft { key }.evalsha_command();
    let _ = DeleteCount { keys }.evalsha_command();
}
