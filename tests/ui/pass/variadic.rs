// Variadic keys and args, for a script that reads KEYS and ARGV dynamically.
use redis_script::Script;

#[derive(redis_script::RedisScript)]
// `standalone_only`: the keys need not share a Redis Cluster hash slot.
#[redis_script(path = "ui/pass/lua/variadic.lua", returns = i64, standalone_only)]
struct PushToAll<'a> {
    #[key]
    first: &'a str,
    #[key(variadic)]
    rest: Vec<&'a str>,
    #[arg(variadic)]
    values: &'a [i64],
}

fn main() {
    let push = PushToAll {
        first: "a",
        rest: vec!["b", "c"],
        values: &[1, 2, 3],
    };
    // EVALSHA sha1 numkeys a b c 1 2 3
    assert_eq!(push.evalsha_command().args_iter().count(), 9);
}
