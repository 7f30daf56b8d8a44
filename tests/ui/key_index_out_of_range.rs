// The script reads KEYS[3], but the struct declares only two keys.
#[derive(redis_script::RedisScript)]
// `standalone_only`: the keys need not share a Redis Cluster hash slot.
#[redis_script(path = "ui/lua/key_index_out_of_range.lua", standalone_only)]
struct Transfer<'a> {
    #[key]
    from: &'a str,
    #[key]
    to: &'a str,
}

fn main() {}
