// `rest` is variadic, but the script only reads KEYS[1].
#[derive(redis_script::RedisScript)]
// `standalone_only`: the keys need not share a Redis Cluster hash slot.
#[redis_script(path = "ui/lua/variadic_without_dynamic_read.lua", standalone_only)]
struct DeleteAll {
    #[key]
    first: String,
    #[key(variadic)]
    rest: Vec<String>,
}

fn main() {}
