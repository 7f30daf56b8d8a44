// Two keys, one of them plain: nothing proves they share a Redis Cluster hash slot.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_without_hash_tag.lua")]
struct Transfer {
    #[key("{{bank:{bank}}}:account:{}")]
    from: String,
    #[key]
    to: String,
    bank: String,
}

fn main() {}
