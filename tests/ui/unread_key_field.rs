// `to` is sent as KEYS[2], which the script never reads.
#[derive(redis_script::RedisScript)]
// `standalone_only`: the keys need not share a Redis Cluster hash slot.
#[redis_script(path = "ui/lua/unread_key_field.lua", standalone_only)]
struct Transfer<'a> {
    #[key]
    from: &'a str,
    #[key]
    to: &'a str,
}

fn main() {}
