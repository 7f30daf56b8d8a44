// The script reads KEYS only dynamically, so which fields it reads cannot be known: no field
// is reported as unread.
#[derive(redis_script::RedisScript)]
// `standalone_only`: the keys need not share a Redis Cluster hash slot.
#[redis_script(path = "ui/pass/lua/dynamic_key_reads.lua", returns = i64, standalone_only)]
struct CountExisting<'a> {
    #[key]
    first: &'a str,
    #[key]
    second: &'a str,
}

fn main() {
    let _ = CountExisting {
        first: "a",
        second: "b",
    };
}
